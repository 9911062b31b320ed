"""Environments of a multi-task collector, one per slot, stepped together.

A slot holds one environment, set to a task by a garage ``EnvUpdate``, and
the random stream of its action noise. The slots live in this process
(:class:`InProcessEnvs`, for cheap simulators such as HalfCheetah), in
worker processes holding several slots each (:class:`ProcessEnvs`), or in
Ray actors (:class:`RayEnvs`). Slot ``s`` lives in worker
``s % n_workers``; its environment and its noise stream are seeded from
``(seed, s)``, so the data a slot produces depends on the seed and the slot,
never on which worker holds it or how many there are.

Each worker holds a copy of the policy (:meth:`set_policy`) and runs whole
episodes of its slots (:meth:`run_episodes`): a step waits on no pipe and
no other process; the caller hands over each episode's z and gets the
episodes back.

All three pickle with their environments and noise streams: a snapshot
resumes exactly, in as many workers as it had.

A worker process ends with its launcher, whatever kills it (Linux: the
parent-death signal; elsewhere it ends when its pipe closes), and leaves
Ctrl-C to the launcher. A worker that does not answer a call within
:func:`worker_timeout` seconds (stopped, hung) stops the run with an
:class:`EnvWorkerError` naming it; the environment variable
:data:`WORKER_TIMEOUT_VARIABLE` sets that time (default
:data:`DEFAULT_WORKER_TIMEOUT`; a worker's first call, which waits for it to
start, gets :data:`DEFAULT_WORKER_TIMEOUT` more); the silent worker is
killed.

Worker processes start by ``spawn``, which imports the main script again
in each of them: a run started from a script's top level, outside
``if __name__ == '__main__':``, would start again in every worker.
:func:`check_main_guard` refuses that before anything starts, naming the
script's line (:class:`UnguardedMainError`).
"""
import ast
import inspect
import multiprocessing
import os
import random
import signal
import sys
import time
import traceback
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from tcl_garage.sampling.episodes import run_episodes, SamplingPolicy

#: What one step of one slot returns: observation, reward, step type and
#: environment info.
StepResult = Tuple[np.ndarray, float, Any, dict]


class EnvWorkerError(RuntimeError):
    """An environment worker died, failed or stopped answering; the run
    cannot continue."""


class UnguardedMainError(RuntimeError):
    """Worker processes would start from a script's top level, outside its
    ``if __name__ == '__main__':`` guard: each would run the script again."""


def _guarded_lines(source: str) -> List[Tuple[int, int]]:
    """The line spans of a module's ``if`` statements that test
    ``__name__`` (its main guard).

    Args:
        source (str): The module's source.

    Returns:
        list[tuple[int, int]]: First and last line of each.

    """
    return [(node.lineno, node.end_lineno or node.lineno)
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.If) and any(
                isinstance(name, ast.Name) and name.id == '__name__'
                for name in ast.walk(node.test))]


def unguarded_main_line() -> Optional[Tuple[str, int]]:
    """Where this process's main script runs outside its main guard, if
    it does: the script's top-level statement under way (the one that led
    to this call), when no ``if __name__ ...`` holds it. A worker started
    by ``spawn`` imports the script again and would run that statement.

    Returns:
        tuple[str, int] or None: The script's path and the line, or None
            (the statement is guarded, or there is no script file: ``-c``,
            a notebook, an interactive session).

    """
    main = sys.modules.get('__main__')
    path = getattr(main, '__file__', None)
    if main is None or path is None:
        return None
    line = None
    frame = inspect.currentframe()
    while frame is not None:  # the outermost frame of the script's top level
        if (frame.f_globals is vars(main)
                and frame.f_code.co_name == '<module>'):
            line = frame.f_lineno
        frame = frame.f_back
    if line is None:
        return None
    try:
        with open(path, 'rb') as f:
            spans = _guarded_lines(f.read().decode('utf-8', 'replace'))
    except (OSError, SyntaxError, ValueError):  # no source to read
        return None
    if any(first <= line <= last for first, last in spans):
        return None
    return path, line


def check_main_guard() -> None:
    """Refuse to start worker processes from a script's top level, outside
    its main guard (:func:`unguarded_main_line`).

    Raises:
        UnguardedMainError: One line naming the script's line and what to
            add.

    """
    where = unguarded_main_line()
    if where is not None:
        raise UnguardedMainError(
            f'{where[0]}, line {where[1]}: this starts a run with worker '
            'processes outside `if __name__ == \'__main__\':`, and each '
            'worker process imports the script again; put the code that '
            'starts the run under that guard (or set n_workers=0)')


def starts_processes(kind: str, n_workers: int) -> bool:
    """Whether slots of this kind and count live in worker processes
    (:class:`ProcessEnvs`, see :func:`make_env_slots`).

    Args:
        kind (str): ``local`` or ``ray``.
        n_workers (int): Workers.

    Returns:
        bool: True for ``local`` with workers.

    """
    return kind == 'local' and n_workers > 0


#: The environment variable that sets :func:`worker_timeout` (seconds).
WORKER_TIMEOUT_VARIABLE = 'TCL_GARAGE_WORKER_TIMEOUT'
#: Seconds a worker may take to answer one call, by default.
DEFAULT_WORKER_TIMEOUT = 300.0


def worker_timeout() -> float:
    """Seconds an environment worker may take to answer one call (whole
    episodes of its slots) before the run stops.

    Returns:
        float: :data:`WORKER_TIMEOUT_VARIABLE`'s value, else
            :data:`DEFAULT_WORKER_TIMEOUT`.

    Raises:
        ValueError: If the variable is not a positive number.

    """
    text = os.environ.get(WORKER_TIMEOUT_VARIABLE)
    if not text:
        return DEFAULT_WORKER_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = float('nan')
    if not seconds > 0:
        raise ValueError(f'{WORKER_TIMEOUT_VARIABLE}={text}: give a number of '
                         'seconds > 0')
    return seconds


def end_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux's
    ``PR_SET_PDEATHSIG``); elsewhere a no-op."""
    if not sys.platform.startswith('linux'):
        return
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return


#: Environment variable naming the process whose death must end this one
#: (a process started by a threaded parent, where ``preexec_fn`` is unsafe).
END_WITH_ENV = 'TCL_GARAGE_END_WITH_PID'


def end_with_parent_named_in_environment() -> None:
    """:func:`end_with_parent` when :data:`END_WITH_ENV` names this
    process's parent; exit at once if that parent is already gone."""
    pid = os.environ.pop(END_WITH_ENV, None)
    if pid is None:
        return
    end_with_parent()
    if os.getppid() != int(pid):  # it died before the kernel was told
        sys.exit(1)


def slot_seed(seed: int, slot: int, build: int) -> int:
    """Seed of the ``build``-th environment built in a slot.

    Args:
        seed (int): The run's seed.
        slot (int): The slot.
        build (int): How many environments the slot built before.

    Returns:
        int: A seed in ``[0, 2**31)``.

    """
    sequence = np.random.SeedSequence([seed, slot, build])
    return int(sequence.generate_state(1)[0] % 2**31)


def noise_stream(seed: int, slot: int) -> np.random.Generator:
    """The random stream of a slot's action noise.

    Args:
        seed (int): The run's seed.
        slot (int): The slot.

    Returns:
        np.random.Generator: Independent of every environment's seed.

    """
    return np.random.default_rng(
        np.random.SeedSequence([seed, slot], spawn_key=(1, )))


def seed_worker_streams(seed: int, worker: int) -> None:
    """Seed a worker process's global numpy, torch and Python streams.

    The slots' environments and noise streams have seeds of their own; this
    is for any code in a worker that draws from the global streams (which a
    fresh process would seed from OS entropy). Such draws are repeatable
    for a seed and a worker count, but depend on the worker count, and a
    resumed run seeds them afresh.

    Args:
        seed (int): The run's seed.
        worker (int): The worker's index.

    """
    numpy_seed, torch_seed = np.random.SeedSequence(
        [seed, worker], spawn_key=(2, )).generate_state(2)
    np.random.seed(int(numpy_seed))
    random.seed(int(numpy_seed))
    torch.manual_seed(int(torch_seed))


class Slots:
    """The environments of some slots, wherever they live.

    Args:
        seed (int): The run's seed.
        envs (dict[int, tuple] or None): ``{slot: (env, builds, noise)}``
            to start from (a restored state).
        worker (int or None): In a worker process or actor, its index: its
            global random streams are seeded from the run's seed and it
            (:func:`seed_worker_streams`); None in the run's own process.

    """

    def __init__(self, seed: int, envs: Optional[Dict] = None,
                 worker: Optional[int] = None) -> None:
        if worker is not None:
            seed_worker_streams(seed, worker)
        self._seed = seed
        self._envs: Dict[int, Any] = {}
        self._builds: Dict[int, int] = {}
        self._noise: Dict[int, np.random.Generator] = {}
        self._policy: Optional[SamplingPolicy] = None
        for slot, (env, builds, *noise) in (envs or {}).items():
            self._envs[slot], self._builds[slot] = env, builds
            # (snapshots before the noise streams: a fresh one, seeded)
            self._noise[slot] = (noise[0] if noise else
                                 noise_stream(seed, slot))

    def set_tasks(self, updates: Dict[int, Any]) -> None:
        """Set each slot's environment to its task (building it if needed).

        Args:
            updates (dict[int, EnvUpdate]): ``{slot: update}``.

        """
        for slot, update in updates.items():
            old = self._envs.get(slot)
            # Building may draw from the global np.random (the gymnasium
            # adapter takes its first seed there; the slot's seed below
            # replaces it): leave the global stream as it was, so the run's
            # own draws are the same wherever its slots live.
            global_state = np.random.get_state()
            try:
                env = update(old)
            finally:
                np.random.set_state(global_state)
            if env is not old:  # a new environment: seed it from its slot
                builds = self._builds.get(slot, 0)
                if hasattr(env, 'seed'):
                    env.seed(slot_seed(self._seed, slot, builds))
                self._builds[slot] = builds + 1
                if old is not None:
                    old.close()
            self._envs[slot] = env
            if slot not in self._noise:
                self._noise[slot] = noise_stream(self._seed, slot)

    def reset(self, slots: Sequence[int]) -> List[np.ndarray]:
        """Start an episode in each slot.

        Args:
            slots (Sequence[int]): The slots.

        Returns:
            list[np.ndarray]: First observation of each.

        """
        return [self._envs[slot].reset()[0] for slot in slots]

    def step(self, slots: Sequence[int],
             actions: Sequence[np.ndarray]) -> List[StepResult]:
        """Step each slot's environment with its action.

        Args:
            slots (Sequence[int]): The slots.
            actions (Sequence[np.ndarray]): One action per slot.

        Returns:
            list[StepResult]: One per slot.

        """
        results = []
        for slot, action in zip(slots, actions):
            step = self._envs[slot].step(action)
            results.append((step.observation, step.reward, step.step_type,
                            step.env_info))
        return results

    def set_policy(self, policy: SamplingPolicy) -> None:
        """The policy that :meth:`run_episodes` acts with."""
        self._policy = policy

    def run_episodes(self, slots: Sequence[int], positions: Sequence[int],
                     width: int, z: np.ndarray, deterministic: bool,
                     max_episode_length: int) -> List[Dict[str, Any]]:
        """One episode in each slot, stepped together, acting with the
        policy of :meth:`set_policy`.

        Args:
            slots (Sequence[int]): The slots.
            positions (Sequence[int]): Each slot's row in the whole call
                (over every worker).
            width (int): Slots in the whole call.
            z (np.ndarray): ``(len(slots), latent_dim)``: each slot's z.
            deterministic (bool): Act with the policy's mean (else sample,
                the noise from each slot's stream).
            max_episode_length (int): Longest episode.

        Returns:
            list[dict]: Each slot's episode, in garage's path format.

        """
        if self._policy is None:
            raise RuntimeError('no policy to act with: call set_policy '
                               'first')
        noise = None if deterministic else [self._noise[s] for s in slots]
        act = self._policy.act_function(positions, width, z, noise)
        return run_episodes(self, slots, act, max_episode_length)

    def state(self) -> Dict[int, tuple]:
        """``{slot: (env, builds, noise)}``: everything to rebuild these
        slots."""
        return {slot: (env, self._builds[slot], self._noise[slot])
                for slot, env in self._envs.items()}

    def close(self) -> None:
        """Close every environment."""
        for env in self._envs.values():
            env.close()
        self._envs = {}


class _Workers:
    """Slots spread over workers: slot ``s`` lives in worker
    ``s % n_workers``. Subclasses say how a worker is reached."""

    def __init__(self, seed: int, n_workers: int,
                 state: Optional[Dict] = None) -> None:
        if n_workers < 1:
            raise ValueError(f'n_workers={n_workers}: give at least 1')
        self._seed = seed
        self.n_workers = n_workers
        self._state = state or {}  # handed to the workers when they start
        self._started = False

    def _owner(self, slot: int) -> int:
        return slot % self.n_workers

    def _split(self, slots, values=None):
        """``{worker: (slots, values, positions)}`` for these slots."""
        parts: Dict[int, tuple] = {}
        for position, slot in enumerate(slots):
            part = parts.setdefault(self._owner(slot), ([], [], []))
            part[0].append(slot)
            part[1].append(None if values is None else values[position])
            part[2].append(position)
        return parts

    def _ensure_started(self) -> None:
        if not self._started:
            for worker in range(self.n_workers):
                mine = {slot: value for slot, value in self._state.items()
                        if self._owner(slot) == worker}
                self._start(worker, mine)
            self._state = {}
            self._started = True

    def _call_all(self, calls: Dict[int, tuple]) -> Dict[int, Any]:
        """Send ``{worker: (method, args)}`` to the workers, all at once,
        then gather their answers."""
        self._ensure_started()
        for worker, (method, args) in calls.items():
            self._send(worker, method, args)
        return {worker: self._receive(worker) for worker in calls}

    def set_tasks(self, updates: Dict[int, Any]) -> None:
        """Set slots to tasks: ``{slot: EnvUpdate}``."""
        calls = {}
        for slot, update in updates.items():
            calls.setdefault(self._owner(slot), ('set_tasks', [{}]))
            calls[self._owner(slot)][1][0][slot] = update
        self._call_all(calls)

    def reset(self, slots: Sequence[int]) -> List[np.ndarray]:
        """First observation of a new episode in each slot."""
        parts = self._split(slots)
        answers = self._call_all({w: ('reset', [part[0]])
                                  for w, part in parts.items()})
        return _merge(len(slots), parts, answers)

    def step(self, slots: Sequence[int],
             actions: Sequence[np.ndarray]) -> List[StepResult]:
        """Step each slot with its action, the workers in parallel."""
        parts = self._split(slots, actions)
        answers = self._call_all({w: ('step', [part[0], part[1]])
                                  for w, part in parts.items()})
        return _merge(len(slots), parts, answers)

    def set_policy(self, policy: SamplingPolicy) -> None:
        """Give every worker a copy of the policy to act with."""
        self._call_all({w: ('set_policy', [policy])
                        for w in range(self.n_workers)})

    def run_episodes(self, slots: Sequence[int], z: np.ndarray,
                     deterministic: bool,
                     max_episode_length: int) -> List[Dict[str, Any]]:
        """One episode in each slot, each worker running its own slots'
        episodes with its copy of the policy, the workers in parallel.

        Args:
            slots (Sequence[int]): The slots.
            z (np.ndarray): ``(len(slots), latent_dim)``: each slot's z.
            deterministic (bool): Act with the policy's mean.
            max_episode_length (int): Longest episode.

        Returns:
            list[dict]: Each slot's episode, in garage's path format.

        """
        parts = self._split(slots, z)
        answers = self._call_all({
            w: ('run_episodes', [part[0], part[2], len(slots),
                                 np.stack(part[1]), deterministic,
                                 max_episode_length])
            for w, part in parts.items()
        })
        return _merge(len(slots), parts, answers)

    def __getstate__(self):
        if self._started:
            answers = self._call_all({w: ('state', [])
                                      for w in range(self.n_workers)})
            state = {k: v for answer in answers.values()
                     for k, v in answer.items()}
        else:
            state = dict(self._state)
        return {'seed': self._seed, 'n_workers': self.n_workers,
                'state': state}

    def __setstate__(self, saved):
        self.__init__(saved['seed'], saved['n_workers'], saved['state'])

    def _start(self, worker: int, state: Dict) -> None:
        raise NotImplementedError

    def _send(self, worker: int, method: str, args: list) -> None:
        raise NotImplementedError

    def _receive(self, worker: int) -> Any:
        raise NotImplementedError


def _merge(n: int, parts: Dict[int, tuple], answers: Dict[int, list]):
    merged = [None] * n
    for worker, (_, _, positions) in parts.items():
        for position, value in zip(positions, answers[worker]):
            merged[position] = value
    return merged


class InProcessEnvs(_Workers):
    """All slots in this process (one "worker").

    Args:
        seed (int): The run's seed.
        n_workers (int): Unused: always one (the signature of every
            ``_Workers``, through which a pickled state is restored).
        state (dict or None): ``{slot: (env, builds, noise)}`` to start
            from.

    """

    def __init__(self, seed: int, n_workers: int = 1,
                 state: Optional[Dict] = None) -> None:
        super().__init__(seed, 1, state)
        self._slots: Optional[Slots] = None
        self._answer = None

    def _start(self, worker, state):
        self._slots = Slots(self._seed, state)

    def _send(self, worker, method, args):
        self._answer = getattr(self._slots, method)(*args)

    def _receive(self, worker):
        return self._answer

    def close(self) -> None:
        """Close the environments."""
        if self._slots is not None:
            self._slots.close()


def _serve(connection, seed: int, state: Dict, worker: int,
           parent: int) -> None:
    """A worker process: answer ``(method, args)`` requests on a pipe."""
    end_with_parent()
    if os.getppid() != parent:  # the launcher died before that
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher's to handle
    torch.set_num_threads(1)  # a few rows a call; the other cores are busy
    slots = Slots(seed, state, worker)
    while True:
        try:
            method, args = connection.recv()
        except EOFError:
            return
        if method == 'close':
            slots.close()
            return
        try:
            connection.send(('ok', getattr(slots, method)(*args)))
        except Exception:  # pylint: disable=broad-except
            connection.send(('error', traceback.format_exc()))


class ProcessEnvs(_Workers):
    """Slots in worker processes (``spawn``: nothing of this process's
    state, threads or CUDA context is inherited).

    Args:
        seed (int): The run's seed.
        n_workers (int): Worker processes.

    """

    def __init__(self, seed: int, n_workers: int = 2,
                 state: Optional[Dict] = None) -> None:
        super().__init__(seed, n_workers, state)
        self._processes: Dict[int, Any] = {}
        self._connections: Dict[int, Any] = {}
        self._answered = set()  # workers that answered a call

    def _ensure_started(self) -> None:
        if not self._started:
            check_main_guard()
        super()._ensure_started()

    def _start(self, worker, state):
        context = multiprocessing.get_context('spawn')
        mine, theirs = context.Pipe()
        process = context.Process(target=_serve,
                                  args=(theirs, self._seed, state, worker,
                                        os.getpid()),
                                  daemon=True,
                                  name=f'tcl_garage-envs-{worker}')
        process.start()
        theirs.close()
        self._processes[worker], self._connections[worker] = process, mine

    def _send(self, worker, method, args):
        try:
            self._connections[worker].send((method, args))
        except (BrokenPipeError, ConnectionResetError, OSError):
            self._died(worker)

    def _receive(self, worker):
        connection = self._connections[worker]
        timeout, start = worker_timeout(), time.monotonic()
        if worker not in self._answered:  # its first call waits its start
            timeout += DEFAULT_WORKER_TIMEOUT
        while not connection.poll(min(1.0, timeout)):
            if not self._processes[worker].is_alive():
                self._died(worker)
            if time.monotonic() - start > timeout:
                # SIGKILL reaches a stopped process; SIGTERM would wait.
                self._processes[worker].kill()
                self._processes[worker].join(timeout=5.0)
                raise EnvWorkerError(
                    f'environment worker {worker} (pid '
                    f'{self._processes[worker].pid}) has not answered in '
                    f'{timeout:g} s (stopped or hung; '
                    f'{WORKER_TIMEOUT_VARIABLE} sets the limit); the run '
                    'stops: resume it from its last snapshot (--resume DIR)')
        try:
            status, value = connection.recv()
        except (EOFError, ConnectionResetError, OSError):
            self._died(worker)
        self._answered.add(worker)
        if status == 'error':
            raise EnvWorkerError(f'environment worker {worker} failed:\n'
                                 f'{value}')
        return value

    def _died(self, worker):
        process = self._processes[worker]
        process.join(timeout=1.0)
        raise EnvWorkerError(
            f'environment worker {worker} (pid {process.pid}) died (exit '
            f'code {process.exitcode}); the run stops: resume it from its '
            'last snapshot (--resume DIR)')

    def close(self) -> None:
        """Stop the workers."""
        for worker, connection in self._connections.items():
            try:
                connection.send(('close', []))
            except (BrokenPipeError, OSError):
                pass
            self._processes[worker].join(timeout=5.0)
            if self._processes[worker].is_alive():
                self._processes[worker].kill()
        self._processes, self._connections = {}, {}
        self._answered = set()
        self._started = False

    def __del__(self):
        if getattr(self, '_processes', None):
            self.close()


class RayEnvs(_Workers):
    """Slots in Ray actors (on this machine, or a cluster joined with
    :func:`tcl_garage.garage_compat.ray_init`).

    Args:
        seed (int): The run's seed.
        n_workers (int): Actors.

    """

    def __init__(self, seed: int, n_workers: int = 2,
                 state: Optional[Dict] = None) -> None:
        super().__init__(seed, n_workers, state)
        self._actors: Dict[int, Any] = {}
        self._pending: Dict[int, Any] = {}
        self._answered = set()  # actors that answered a call

    def _start(self, worker, state):
        import ray

        from tcl_garage.garage_compat import ray_init
        ray_init()
        self._actors[worker] = ray.remote(Slots).remote(self._seed, state,
                                                         worker)

    def _send(self, worker, method, args):
        self._pending[worker] = getattr(self._actors[worker],
                                        method).remote(*args)

    def _receive(self, worker):
        import ray
        timeout = worker_timeout()
        if worker not in self._answered:  # its first call waits its start
            timeout += DEFAULT_WORKER_TIMEOUT
        try:
            answer = ray.get(self._pending.pop(worker), timeout=timeout)
            self._answered.add(worker)
            return answer
        except ray.exceptions.GetTimeoutError:
            raise EnvWorkerError(
                f'environment actor {worker} has not answered in '
                f'{timeout:g} s (stopped or hung; {WORKER_TIMEOUT_VARIABLE} '
                'sets the limit); the run stops: resume it from its last '
                'snapshot (--resume DIR)') from None
        except ray.exceptions.RayActorError as error:
            raise EnvWorkerError(
                f'environment actor {worker} died ({error}); the run stops:'
                ' resume it from its last snapshot (--resume DIR)') from None
        except ray.exceptions.RayTaskError as error:
            raise EnvWorkerError(f'environment actor {worker} failed:\n'
                                 f'{error}') from None

    def close(self) -> None:
        """Stop the actors."""
        import ray
        for actor in self._actors.values():
            ray.kill(actor)
        self._actors = {}
        self._answered = set()
        self._started = False


def make_env_slots(kind: str, seed: int, n_workers: int):
    """The slots of a collector.

    Args:
        kind (str): ``local`` (this process when ``n_workers`` is 0, else
            worker processes) or ``ray`` (actors).
        seed (int): The run's seed.
        n_workers (int): Workers (0: this process; ``local`` only).

    Returns:
        InProcessEnvs or ProcessEnvs or RayEnvs: The slots.

    Raises:
        ValueError: On an unknown kind or a bad worker count.

    """
    if kind == 'local':
        if n_workers == 0:
            return InProcessEnvs(seed)
        return ProcessEnvs(seed, n_workers)
    if kind == 'ray':
        return RayEnvs(seed, n_workers)
    raise ValueError(f'unknown sampler {kind!r}: use local or ray')
