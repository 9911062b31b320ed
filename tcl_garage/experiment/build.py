"""Assemble a PEARL or TCL-PEARL run: networks, sampler and algorithm.

One code path for every launcher, test and demo: give it the training tasks,
the test task sampler and the sizes, get back the algorithm and the
environment to hand to garage's ``Trainer``.
"""
import inspect
from typing import Any, Dict, Optional, Sequence, Union

from garage.sampler import LocalSampler, RaySampler
from garage.torch.policies import TanhGaussianMLPPolicy
from garage.torch.q_functions import ContinuousMLPQFunction

from tcl_garage import garage_compat
from tcl_garage.algos import PEARL, PEARLWorker, TCLPEARL
from tcl_garage.experiment.algorithms import default_arguments
from tcl_garage.experiment.devices import use_device
from tcl_garage.experiment.settings import SETTINGS
from tcl_garage.sampling import make_env_slots

class SessionRaySampler(RaySampler):
    """garage's ``RaySampler`` in a Ray session it does not own.

    garage's starts Ray without the hook that adapts its workers
    (:func:`tcl_garage.garage_compat.ray_init`) when none runs, and ends the
    whole Ray session when its workers shut down, so a second sampler in
    one process (a sweep's runs, a resumed run) got workers that cannot
    import garage. This one starts Ray through ``ray_init`` (also when
    unpickled from a snapshot) and ends only its own workers.

    Args:
        *args: ``garage.sampler.RaySampler``'s arguments.
        **kwargs: Its keyword arguments.

    """

    def __init__(self, *args, **kwargs) -> None:
        garage_compat.ray_init()
        super().__init__(*args, **kwargs)

    def shutdown_worker(self) -> None:
        """End this sampler's workers; the Ray session runs on."""
        import ray
        workers = list(self._all_workers.values())
        ray.get([worker.shutdown.remote() for worker in workers])
        for worker in workers:
            ray.kill(worker)
        self._all_workers = {}
        self._workers_started = False


#: The PEARL classes :func:`build_pearl` builds, by ``algo`` name (the
#: experiment layer's table of every algorithm is
#: :data:`tcl_garage.experiment.algorithms.ALGORITHMS`).
PEARL_CLASSES = {'pearl': PEARL, 'tcl-pearl': TCLPEARL}


def _documented_defaults(algo: type) -> Dict[str, Any]:
    """The documented defaults of a PEARL class's arguments (the table's),
    those its constructor takes (garage's own PEARL lacks ours).

    Args:
        algo (type): The class.

    Returns:
        dict: Keyword arguments of :func:`build_pearl`.

    """
    name = 'tcl-pearl' if issubclass(algo, TCLPEARL) else 'pearl'
    defaults = default_arguments(name, _BUILDER_OWN)
    parameters = inspect.signature(algo).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return defaults
    return {key: value for key, value in defaults.items()
            if key in parameters or key in _BUILDER_SIZES}


#: Arguments :func:`build_pearl` gives defaults of its own (this process,
#: the CPU).
_BUILDER_OWN = ('device', 'sampler', 'n_workers', 'collector', 'seed')
#: Arguments :func:`build_pearl` turns into networks.
_BUILDER_SIZES = ('latent_dim', 'net_sizes', 'encoder_hidden_sizes')


def build_pearl(algo: Union[str, type],
                train_envs: Sequence,
                test_task_sampler,
                *,
                num_test_tasks: int,
                latent_dim: Optional[int] = None,
                net_sizes: Optional[Sequence[int]] = None,
                encoder_hidden_sizes: Optional[Sequence[int]] = None,
                device: str = 'cpu',
                sampler: str = 'local',
                n_workers: int = 0,
                collector: str = 'vectorised',
                seed: int = 0,
                **algo_kwargs):
    """Build PEARL or TCL-PEARL with garage's networks, on a device.

    Every size and setting not given is the documented default (the
    settings table, :mod:`tcl_garage.experiment.settings`, as
    ``configs/defaults.yaml`` lists it: meta-batch 16, 2,000 gradient
    steps an epoch, batch 256, networks of 3 x 300, ...; TCL-PEARL: windows
    of 64, 2 a task), not garage's. PEARL given ``embedding_batch_size``
    alone trains its encoder on all of it (``embedding_mini_batch_size``).

    Args:
        algo (str or type): ``'pearl'``, ``'tcl-pearl'``, or a PEARL class
            (ours, or garage's own ``garage.torch.algos.PEARL``).
        train_envs (Sequence[EnvUpdate]): One update per training task.
        test_task_sampler (garage.experiment.TaskSampler): Test tasks.
        num_test_tasks (int): Test tasks per evaluation.
        latent_dim (int or None): Size of z.
        net_sizes (Sequence[int] or None): Hidden sizes of the policy, Q-
            and value functions.
        encoder_hidden_sizes (Sequence[int] or None): Hidden sizes of the
            encoder.
        device (str): ``cpu``, ``cuda`` or ``cuda:<index>``.
        sampler (str): ``local`` (this machine) or ``ray`` (Ray workers;
            call :func:`tcl_garage.garage_compat.ray_init` first to join an
            existing cluster).
        n_workers (int): Environment workers: with ``local``, 0 steps the
            environments in this process and N in N worker processes; with
            ``ray``, N Ray workers (at least 1).
        collector (str): ``vectorised`` (every task of a round and every
            test task at once, :mod:`tcl_garage.sampling`) or
            ``sequential`` (garage's sampler, one task at a time; ``local``
            always samples in this process). garage's own PEARL class is
            always sequential.
        seed (int): Seed of the vectorised collector's environments (each
            slot's stream comes from it and the slot).
        **algo_kwargs: Other arguments of the algorithm.

    Returns:
        tuple: The algorithm and one environment (for ``Trainer.setup``).

    Raises:
        ValueError: On an unknown algorithm, sampler or device.

    """
    if isinstance(algo, str):
        if algo not in PEARL_CLASSES:
            raise ValueError(f'unknown algorithm {algo!r}: choose one of '
                             f'{", ".join(PEARL_CLASSES)}')
        algo = PEARL_CLASSES[algo]
    given = dict(algo_kwargs,
                 **{key: value for key, value in (
                     ('latent_dim', latent_dim), ('net_sizes', net_sizes),
                     ('encoder_hidden_sizes', encoder_hidden_sizes))
                    if value is not None})
    if 'embedding_batch_size' in given:
        given.setdefault('embedding_mini_batch_size',
                         given['embedding_batch_size'])
    algo_kwargs = {**_documented_defaults(algo), **given}
    latent_dim = algo_kwargs.pop('latent_dim')
    net_sizes = algo_kwargs.pop('net_sizes')
    encoder_hidden_sizes = algo_kwargs.pop('encoder_hidden_sizes')
    env = train_envs[0]()
    augmented_spec = algo.augment_env_spec(env, latent_dim)
    qf = ContinuousMLPQFunction(env_spec=augmented_spec,
                                hidden_sizes=list(net_sizes))
    vf = ContinuousMLPQFunction(env_spec=algo.get_env_spec(
        env, latent_dim, 'vf'),
                                hidden_sizes=list(net_sizes))
    inner_policy = TanhGaussianMLPPolicy(env_spec=augmented_spec,
                                         hidden_sizes=list(net_sizes))
    for key, value in (('sampler', sampler), ('collector', collector)):
        choices = SETTINGS[key].choices
        if value not in choices:
            raise ValueError(f'unknown {key} {value!r}: use '
                             f'{" or ".join(choices)}')
    if not issubclass(algo, PEARL):  # garage's own: one task at a time
        collector = 'sequential'
    if collector == 'vectorised':
        algo_kwargs['env_slots'] = make_env_slots(sampler, seed, n_workers)
    if sampler == 'local' or collector == 'vectorised':
        # (vectorised: garage's PEARL wants a sampler; it goes unused)
        sampler_obj = LocalSampler(agents=None,
                                   envs=env,
                                   max_episode_length=env.spec.
                                   max_episode_length,
                                   n_workers=1,
                                   worker_class=PEARLWorker)
    else:
        sampler_obj = SessionRaySampler(
            agents=None,
            envs=env,
            max_episode_length=env.spec.max_episode_length,
            n_workers=n_workers,
            worker_class=PEARLWorker)
    algorithm = algo(env=train_envs,
                     inner_policy=inner_policy,
                     qf=qf,
                     vf=vf,
                     sampler=sampler_obj,
                     num_train_tasks=len(train_envs),
                     num_test_tasks=num_test_tasks,
                     latent_dim=latent_dim,
                     encoder_hidden_sizes=list(encoder_hidden_sizes),
                     test_env_sampler=test_task_sampler,
                     **algo_kwargs)
    use_device(device)
    algorithm.to()
    return algorithm, env
