"""Episodes of several environments stepped together, and the policy that
acts in them wherever the environments live.

:func:`run_episodes` is the lockstep loop: one episode in each of some
slots, one batched policy call per step. It runs next to the environments
(in this process, a worker process or a Ray actor), so that a step waits on
no pipe and no other process.

:class:`SamplingPolicy` is the CPU copy of PEARL's policy shipped to where
the environments are. Its actions for a task depend on nothing but that
task's observation, z and noise, so the data is the same however the tasks
are spread over workers:

- each task's action noise comes from its slot's own random stream, never
  from a stream shared with other tasks;
- a task's row sits at the same position of a batch of the same size in
  every worker (the others padded with zeros): torch's CPU matrix product
  gives a row different bits in batches of different sizes, but the same
  bits at the same position of the same shape, whatever the other rows hold
  (a test checks both).
"""
import collections
import copy
import pickle
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from garage import StepType
from garage.torch import NonLinearity
from garage.torch.distributions import TanhNormal
from garage.torch.modules import GaussianMLPTwoHeadedModule
import numpy as np
import torch

#: Actions of a batch of rows: (observations, rows) -> actions, where row
#: ``i`` of the batch is the episode ``rows[i]`` of the call.
ActFunction = Callable[[np.ndarray, Sequence[int]], np.ndarray]
#: Told a step's transitions: (rows, observations, actions, rewards), each
#: array with one row per episode in ``rows``.
ObserveFunction = Callable[[Sequence[int], np.ndarray, np.ndarray,
                            np.ndarray], None]


def run_episodes(envs, slots: Sequence[int], act: ActFunction,
                 max_episode_length: int,
                 observe: Optional[ObserveFunction] = None
                 ) -> List[Dict[str, Any]]:
    """One episode in each slot, all stepped together.

    Args:
        envs: Anything with ``reset(slots)`` and ``step(slots, actions)``
            (:class:`~tcl_garage.sampling.env_slots.Slots`).
        slots (Sequence[int]): The slots; episode ``i`` runs in slot
            ``slots[i]``.
        act (callable): Actions of a batch of episodes still running.
        max_episode_length (int): Longest episode.
        observe (callable or None): Told each step's transitions after
            stepping, ``(rows, observations, actions, rewards)`` (a policy
            that reads its history: MQL's); None: nobody.

    Returns:
        list[dict]: Per slot, garage's path format: ``observations``,
            ``next_observations``, ``actions``, ``rewards``, ``step_types``,
            ``env_infos``, ``agent_infos``, ``episode_infos``.

    """
    observations = envs.reset(slots)
    steps = [collections.defaultdict(list) for _ in slots]
    active = list(range(len(slots)))
    for _ in range(max_episode_length):
        batch = np.stack([observations[row] for row in active])
        actions = act(batch, active)
        results = envs.step([slots[row] for row in active], actions)
        if observe is not None:
            observe(active, batch, actions,
                    np.array([reward for _, reward, _, _ in results]))
        still = []
        for row, action, (obs, reward, step_type, info) in zip(
                active, actions, results):
            record = steps[row]
            record['observations'].append(observations[row])
            record['actions'].append(action)
            record['rewards'].append(reward)
            record['next_observations'].append(obs)
            record['step_types'].append(step_type)
            record['env_infos'].append(info)
            observations[row] = obs
            if step_type not in (StepType.TERMINAL, StepType.TIMEOUT):
                still.append(row)
        active = still
        if not active:
            break
    return [_path(record) for record in steps]


def _path(record) -> Dict[str, Any]:
    infos = record['env_infos']
    return {
        'observations': np.asarray(record['observations']),
        'next_observations': np.asarray(record['next_observations']),
        'actions': np.asarray(record['actions']),
        'rewards': np.asarray(record['rewards'], dtype=np.float64),
        'step_types': np.asarray(record['step_types'], dtype=StepType),
        'env_infos': {key: np.asarray([info[key] for info in infos])
                      for key in infos[0]},
        'agent_infos': {},
        'episode_infos': {},
    }


#: One layer of an MLP as a list of steps: a ``(weight, bias)`` pair is a
#: linear map, anything else a function of the layer's input.
Layer = List[Any]


def _layers_of(module) -> Tuple[List[Layer], List[Layer]]:
    """The hidden layers and the (mean, log std) heads of garage's
    two-headed Gaussian MLP, as steps applied without torch's module call
    machinery (a third of a small policy call's time). The same operations
    on the same parameters: the outputs are bitwise the module's (a test).
    """
    # pylint: disable=protected-access
    network = module._shared_mean_log_std_network

    def steps(sequential) -> Layer:
        layer: Layer = []
        for child in sequential.children():
            if isinstance(child, torch.nn.Linear):
                layer.append((child.weight, child.bias))
            elif isinstance(child, NonLinearity):
                layer.append(child.module)
            else:  # e.g. layer normalisation
                layer.append(child)
        return layer

    return ([steps(layer) for layer in network._layers],
            [steps(head) for head in network._output_layers])


def _apply(layer: Layer, inputs: torch.Tensor) -> torch.Tensor:
    for step in layer:
        if isinstance(step, tuple):
            inputs = torch.nn.functional.linear(inputs, *step)
        else:
            inputs = step(inputs)
    return inputs


class SamplingPolicy:
    """A CPU copy of a ``ContextConditionedPolicy``'s inner policy, acting
    on (observation, z) rows with noise given by the caller.

    Only garage's ``TanhGaussianMLPPolicy`` (the one PEARL uses) is
    supported: its action is ``tanh(mean + std * eps)``, which is what its
    ``TanhNormal`` samples for the same ``eps`` (a test); with
    ``eps = None``, ``tanh(mean)`` (the distribution's mean). No
    distribution objects are built, and garage's std bounds are read once
    here rather than with an ``.item()`` (a host-device sync on a GPU) at
    every step.

    Args:
        module (GaussianMLPTwoHeadedModule): The inner policy's module
            (copied to the CPU).

    Raises:
        ValueError: If the module is not a tanh-Gaussian one.

    """

    def __init__(self, module: torch.nn.Module) -> None:
        self.check(module)
        # pylint: disable=protected-access
        self._module = copy.deepcopy(module)
        self._module.to('cpu')  # (garage's module's to() returns None)
        self._module.eval().requires_grad_(False)
        self._low = (None if module._min_std_param is None else float(
            module._min_std_param))
        self._high = (None if module._max_std_param is None else float(
            module._max_std_param))
        self._layers, self._heads = _layers_of(self._module)

    def __getstate__(self):
        # The module as plain pickle's bytes: a worker's pipe pickles with
        # multiprocessing's pickler, to which torch gives tensors shared
        # through file descriptors, served by a thread of this process that
        # prints a traceback when a worker dies or stops while fetching one.
        return {'module': pickle.dumps(self._module)}

    def __setstate__(self, state):
        self.__init__(pickle.loads(state['module']))

    @staticmethod
    def check(module: torch.nn.Module) -> None:
        """Refuse a module this class cannot copy, without copying it.

        Args:
            module (torch.nn.Module): An inner policy's module.

        Raises:
            ValueError: If the module is not a tanh-Gaussian one.

        """
        # pylint: disable=protected-access
        if not (isinstance(module, GaussianMLPTwoHeadedModule)
                and module._norm_dist_class is TanhNormal
                and module._std_parameterization == 'exp'):
            raise ValueError(
                f'vectorised sampling supports garage\'s '
                f'TanhGaussianMLPPolicy, not {type(module).__name__}: set '
                'collector: sequential for other policies')

    @staticmethod
    def module_of(policy) -> torch.nn.Module:
        """The module of a ``ContextConditionedPolicy``'s inner policy."""
        return policy.networks[1]._module  # pylint: disable=W0212

    @classmethod
    def of(cls, policy) -> 'SamplingPolicy':
        """The sampling copy of a ``ContextConditionedPolicy``."""
        return cls(cls.module_of(policy))

    def actions(self, observations: np.ndarray, z: np.ndarray,
                eps: Optional[np.ndarray] = None) -> np.ndarray:
        """Actions of a batch of rows.

        Args:
            observations (np.ndarray): ``(rows, obs_dim)``.
            z (np.ndarray): ``(rows, latent_dim)``: each row's z.
            eps (np.ndarray or None): ``(rows, action_dim)`` standard normal
                noise; None: act with the mean.

        Returns:
            np.ndarray: ``(rows, action_dim)`` float32 actions.

        """
        with torch.inference_mode():
            inputs = torch.from_numpy(
                np.concatenate([observations, z], axis=1, dtype=np.float32))
            for layer in self._layers:
                inputs = _apply(layer, inputs)
            mean, log_std = (_apply(head, inputs) for head in self._heads)
            if eps is None:
                return torch.tanh(mean).numpy()
            std = log_std.clamp(min=self._low, max=self._high).exp()
            return torch.tanh(mean + torch.from_numpy(eps) * std).numpy()

    def act_function(self, positions: Sequence[int], width: int,
                     z: np.ndarray,
                     noise: Optional[Sequence[np.random.Generator]]
                     ) -> ActFunction:
        """The actions of some of a call's episodes, batch-invariantly.

        Args:
            positions (Sequence[int]): Episode ``i`` here is row
                ``positions[i]`` of the whole call (over every worker).
            width (int): Episodes in the whole call: every batch has this
                many rows, those of other workers' and finished episodes
                zero.
            z (np.ndarray): ``(len(positions), latent_dim)``: each
                episode's z.
            noise (Sequence[np.random.Generator] or None): Each episode's
                noise stream; None: act with the mean.

        Returns:
            callable: ``act(observations, episodes) -> actions``.

        """
        z_batch = np.zeros((width, z.shape[1]), dtype=np.float32)
        z_batch[list(positions)] = z
        action_dim = self._module._action_dim  # pylint: disable=W0212

        def act(observations: np.ndarray,
                episodes: Sequence[int]) -> np.ndarray:
            rows = [positions[i] for i in episodes]
            batch = np.zeros((width, observations.shape[1]), np.float32)
            batch[rows] = observations
            eps = None
            if noise is not None:
                eps = np.zeros((width, action_dim), dtype=np.float32)
                for i, row in zip(episodes, rows):
                    eps[row] = noise[i].standard_normal(action_dim,
                                                        dtype=np.float32)
            return self.actions(batch, z_batch, eps)[rows]

        return act
