"""TCL as one component that any context-based algorithm adds.

:class:`TCL` holds everything the method adds to a host algorithm: its
settings, the momentum key encoder, the window sampling (positives and
negatives, and the shortened-window rule with its warning), the loss with
its accuracy and statistics, and the after-step EMA update. A host adds TCL
in three places:

1. build it on the encoder that TCL trains: ``tcl = TCL(encoder, ...)``;
2. in each training step, add :meth:`TCL.sampled_loss` (windows of each
   task's :class:`Episodes`, queries through the encoder, keys through
   ``tcl.key_encoder``) to the loss the encoder takes its step on
   (Algorithm 2, line 15: ONE step on the sum). A host whose encoder
   already ran on the windows (PEARL: its context is the query windows)
   calls the two halves, :meth:`TCL.sample` and :meth:`TCL.loss`;
3. after that step, call :meth:`TCL.after_step` (the key encoder's EMA).

How a window becomes the encoder's input and a posterior is the host's: a
Gaussian posterior (PEARL's, a mean and a standard deviation) or a
deterministic output (MQL's recurrent context: a point mass, ``std=None``).
Only torch and numpy are needed.
"""
import inspect
import warnings
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from tcl_garage.tcl.loss import contrastive_logits, info_nce, top1_accuracy
from tcl_garage.tcl.momentum import MomentumEncoder
from tcl_garage.tcl.settings import check_tcl_settings
from tcl_garage.tcl.windows import Episodes, sample_window_pairs, WindowPairs

#: What identifies each row's trajectory and task, for the loss's negatives
#: (:func:`~tcl_garage.tcl.loss.excluded_keys`); fields of
#: :class:`~tcl_garage.tcl.windows.WindowPairs`.
PAIR_IDS = ('trajectory_ids', 'key_trajectory_ids', 'task_ids')

#: TCL's settings: the keyword arguments of :class:`TCL` (their types,
#: defaults and documentation are its constructor's).
SETTINGS = ('window_size', 'windows_per_task', 'contrastive_loss_scale',
            'temperature', 'key_encoder_tau', 'positive', 'negatives')


class TCL:
    """Trajectory Contrastive Learning (Wang et al., 2021) for one encoder.

    Args:
        encoder (nn.Module): The encoder TCL trains; the key encoder starts
            as its copy.
        window_size (int): W, transitions per window (paper: 64 or 128).
        windows_per_task (int): Query windows cut from each task's episodes
            in a step.
        contrastive_loss_scale (float): Weight of the TCL loss in the
            encoder's loss (paper: 1 or 5); 0 turns TCL off (no keys, no
            loss, no EMA update).
        temperature (float): InfoNCE temperature (paper: 1).
        key_encoder_tau (float): The key encoder's EMA rate (paper: 0.005).
        positive (str): Where a query's key comes from: ``'trajectory'``
            (its own episode at another start, the paper's text) or
            ``'task'`` (another episode of its task;
            :func:`~tcl_garage.tcl.windows.sample_window_pairs`).
        negatives (str): ``'all'`` (every key but the positive and those of
            its trajectory, the paper's text) or ``'other-tasks'``
            (:func:`~tcl_garage.tcl.loss.excluded_keys`).
        owner (str): The host's name, for messages (e.g. ``'TCLPEARL'``).

    Raises:
        ValueError: On a setting out of its range, naming it.

    """

    def __init__(self,
                 encoder: nn.Module,
                 *,
                 window_size: int = 64,
                 windows_per_task: int = 1,
                 contrastive_loss_scale: float = 1.0,
                 temperature: float = 1.0,
                 key_encoder_tau: float = 0.005,
                 positive: str = 'trajectory',
                 negatives: str = 'all',
                 owner: str = 'TCL') -> None:
        self.check(owner, window_size=window_size,
                   windows_per_task=windows_per_task,
                   contrastive_loss_scale=contrastive_loss_scale,
                   temperature=temperature, key_encoder_tau=key_encoder_tau,
                   positive=positive, negatives=negatives)
        self.window_size = window_size
        self.windows_per_task = windows_per_task
        self.contrastive_loss_scale = contrastive_loss_scale
        self.temperature = temperature
        self.positive = positive
        self.negatives = negatives
        self.owner = owner
        self.key_encoder = MomentumEncoder(encoder, tau=key_encoder_tau)
        self._warned_short_episodes = False

    @classmethod
    def pop_settings(cls, kwargs: Dict[str, object]) -> Dict[str, object]:
        """Take TCL's settings out of a host's keyword arguments.

        Args:
            kwargs (dict): The host's keyword arguments; TCL's
                (:data:`SETTINGS`) are removed from it.

        Returns:
            dict: Every setting, the constructor's default where it was not
                given.

        """
        parameters = inspect.signature(cls.__init__).parameters
        return {name: kwargs.pop(name, parameters[name].default)
                for name in SETTINGS}

    @staticmethod
    def check(owner: str = 'TCL', **settings) -> None:
        """Raise on a setting out of its range, as the constructor does (a
        host checks before it builds anything).

        Args:
            owner (str): The host's name, for the message.
            **settings: Every setting of the constructor
                (:data:`SETTINGS`; :meth:`pop_settings` gives them).

        Raises:
            ValueError: Naming the setting and its range.

        """
        settings = dict(settings)
        tau = settings.pop('key_encoder_tau')
        check_tcl_settings(owner, **settings)
        if not 0.0 < tau <= 1.0:
            raise ValueError(f'{owner}: key_encoder_tau must lie in (0, 1], '
                             f'got {tau}; the paper uses 0.005')

    @classmethod
    def restored(cls, key_encoder: MomentumEncoder, owner: str = 'TCL',
                 **settings) -> 'TCL':
        """The component around an existing key encoder (a snapshot made
        before the component held it).

        Args:
            key_encoder (MomentumEncoder): The key encoder, kept as it is.
            owner (str): The host's name, for messages.
            **settings: The other settings (``window_size`` ...).

        Returns:
            TCL: The component.

        """
        tcl = cls(key_encoder.encoder, key_encoder_tau=key_encoder.tau,
                  owner=owner, **settings)
        tcl.key_encoder = key_encoder
        return tcl

    @property
    def enabled(self) -> bool:
        """bool: Whether the loss is on (``contrastive_loss_scale > 0``)."""
        return self.contrastive_loss_scale > 0

    @property
    def settings(self) -> Dict[str, object]:
        """dict: The settings, as the constructor takes them."""
        return {name: (self.key_encoder.tau if name == 'key_encoder_tau' else
                       getattr(self, name)) for name in SETTINGS}

    def sample(self,
               tasks: Sequence[Episodes],
               with_keys: bool = True,
               rng: Optional[np.random.Generator] = None
               ) -> Tuple[WindowPairs, Dict[str, float]]:
        """Cut ``windows_per_task`` query windows (and keys) per task.

        A query and its key start at different steps of one episode, so
        they are never the same window: with keys, windows are cut from
        episodes of at least ``window_size + 1`` steps. While some task
        holds no such episode (early terminations: Ant, Humanoid, Walker),
        the windows are shortened to one step less than the shortest of
        those tasks' longest episodes (``window_size`` steps without keys),
        with a warning the first time.

        Args:
            tasks (Sequence[Episodes]): Each row group's task (the same
                object again for the same task).
            with_keys (bool): Also cut the key windows.
            rng (np.random.Generator or None): Randomness; None:
                ``np.random``.

        Returns:
            tuple: The windows (``windows_per_task`` rows per task, task by
                task) and, with keys, the step's statistics to log:
                ``TCLWindowSize`` (the length used),
                ``TCLShortWindowFraction`` (1 when shortened) and, with
                ``positive='task'``, ``TCLSameEpisodeKeyFraction`` (rows
                whose task held one long episode only).

        Raises:
            ValueError: If a task's longest episode is too short for any
                window (one step, with keys).

        """
        window = self.window_size
        # A key needs a start other than its query's: one step more.
        spare = 1 if with_keys else 0
        longest = min(task.longest for task in tasks)
        shortened = longest < window + spare
        if shortened:
            window = longest - spare
            if window < 1:
                raise ValueError(
                    f'{self.owner}: a task holds no episode longer than '
                    f'{longest} step(s), too short for a query and a '
                    'different key window: collect longer episodes')
            if not self._warned_short_episodes:
                warnings.warn(
                    f'{self.owner}: some tasks hold no episode of '
                    f'window_size + {spare}={self.window_size + spare} steps '
                    f'(longest: {longest}); using windows of {window} while '
                    'that lasts (logged as Train/TCLWindowSize)',
                    stacklevel=2)
                self._warned_short_episodes = True
        windows = sample_window_pairs(
            tasks,
            window,
            windows_per_buffer=self.windows_per_task,
            with_keys=with_keys,
            rng=rng,
            positive=self.positive)
        statistics: Dict[str, float] = {}
        if with_keys:
            statistics.update(TCLWindowSize=float(window),
                              TCLShortWindowFraction=float(shortened))
            if self.positive == 'task':
                statistics['TCLSameEpisodeKeyFraction'] = float(
                    windows.same_episode_keys.mean())
        return windows, statistics

    @staticmethod
    def pair_ids(windows: WindowPairs) -> Dict[str, np.ndarray]:
        """The ids that decide each query's negatives, as host arrays (a
        host moves them to its device with the key windows).

        Args:
            windows (WindowPairs): Windows with keys.

        Returns:
            dict[str, np.ndarray]: :data:`PAIR_IDS`, each :math:`(N,)`.

        """
        return {name: getattr(windows, name) for name in PAIR_IDS}

    def loss(self, query_mean: torch.Tensor,
             query_std: Optional[torch.Tensor], key_mean: torch.Tensor,
             key_std: Optional[torch.Tensor],
             ids: Mapping[str, torch.Tensor]
             ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """``contrastive_loss_scale * L_TCL``, with its statistics.

        Args:
            query_mean (torch.Tensor): The queries' posterior means through
                the encoder (with gradients), :math:`(N, L)`.
            query_std (torch.Tensor or None): Their standard deviations,
                :math:`(N, L)`; None: point masses.
            key_mean (torch.Tensor): The keys' means through
                :attr:`key_encoder`, :math:`(N, L)`.
            key_std (torch.Tensor or None): Theirs; None: point masses.
            ids (Mapping[str, torch.Tensor]): :meth:`pair_ids` on the
                device, each :math:`(N,)`.

        Returns:
            tuple: The scaled loss (a scalar) and its detached statistics:
                ``TCLLoss`` (unscaled), ``TCLAccuracy`` and, for Gaussian
                queries, ``TCLWindowPosteriorStd``.

        """
        # The masked similarities once (temperature 1), for the loss and
        # the accuracy.
        similarity = contrastive_logits(query_mean, query_std, key_mean,
                                        key_std, 1.0,
                                        negatives=self.negatives, **ids)
        loss = info_nce(similarity / self.temperature)
        statistics = dict(TCLLoss=loss.detach(),
                          TCLAccuracy=top1_accuracy(similarity))
        if query_std is not None:
            statistics['TCLWindowPosteriorStd'] = query_std.detach().mean()
        return self.contrastive_loss_scale * loss, statistics

    def sampled_loss(
        self,
        tasks: Sequence[Episodes],
        encoder: nn.Module,
        features: Callable[[Mapping[str, np.ndarray]], np.ndarray],
        rng: Optional[np.random.Generator] = None,
        to_tensor: Callable[[np.ndarray], torch.Tensor] = torch.from_numpy
    ) -> Tuple[object, Dict[str, object]]:
        """The step's TCL term in one call: :meth:`sample`, encode the
        queries with ``encoder`` and the keys with :attr:`key_encoder`,
        :meth:`loss`.

        Args:
            tasks (Sequence[Episodes]): Each row group's task.
            encoder (nn.Module): The encoder given to the constructor; it
                takes ``features`` of a window batch and returns one point
                per window, :math:`(N, L)`, or a Gaussian's
                ``(mean, std)``.
            features (Callable): A window batch (fields of shape
                :math:`(N, W, \\dim)`) to the encoder's input, a numpy
                array.
            rng (np.random.Generator or None): Randomness; None:
                ``np.random``.
            to_tensor (Callable): A host array to a tensor on the
                encoder's device, keeping its dtype.

        Returns:
            tuple: ``contrastive_loss_scale * L_TCL`` and the statistics of
                :meth:`sample` and :meth:`loss`; with TCL off, 0 and none
                (nothing is drawn).

        """
        if not self.enabled:
            return 0.0, {}
        windows, statistics = self.sample(tasks, rng=rng)
        ids = {name: to_tensor(value)
               for name, value in self.pair_ids(windows).items()}
        query = encoder(to_tensor(features(windows.query)))
        key = self.key_encoder(to_tensor(features(windows.key)))
        query_mean, query_std = query if isinstance(query, tuple) else (
            query, None)
        key_mean, key_std = key if isinstance(key, tuple) else (key, None)
        loss, loss_statistics = self.loss(query_mean, query_std, key_mean,
                                          key_std, ids)
        return loss, {**statistics, **loss_statistics}

    def after_step(self, encoder: nn.Module) -> None:
        """After the encoder's optimizer step: the key encoder moves
        ``key_encoder_tau`` of the way to it (nothing when TCL is off).

        Args:
            encoder (nn.Module): The encoder given to the constructor.

        """
        if self.enabled:
            self.key_encoder.update(encoder)
