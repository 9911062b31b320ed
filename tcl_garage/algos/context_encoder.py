"""The size of PEARL's context encoder: its input (one transition: o, a,
r and, with ``use_next_obs_in_context``, o') and its output (a Gaussian
factor, or z itself without the information bottleneck), which garage
fixed whatever the settings; the context tensor it reads, and the
posterior PEARL infers from its output."""
from typing import Any, Dict, Mapping, Tuple

from garage.torch.embeddings import MLPEncoder
import numpy as np
import torch
import torch.nn.functional as F

from tcl_garage.algos.tensors import to_device
from tcl_garage.tcl.gaussian import product_of_gaussians


def context_width(obs_dim: int, action_dim: int, use_next_obs: bool) -> int:
    """Features of one context transition: (o, a, r[, o']).

    Args:
        obs_dim (int): Observation size.
        action_dim (int): Action size.
        use_next_obs (bool): The next observation is in the context.

    Returns:
        int: The width.

    """
    return obs_dim * (2 if use_next_obs else 1) + action_dim + 1


class EncoderWithDims:
    """Builds the context encoder with the input and output sizes PEARL needs.

    garage sizes the encoder for (o, a, r) inputs and a Gaussian output
    whatever the settings; this factory overrides both sizes.

    Args:
        encoder_class (type): The encoder class, e.g. ``MLPEncoder``.
        input_dim (int): Size of one context transition.
        output_dim (int): Size of the encoder's output per transition.

    """

    def __init__(self, encoder_class: type, input_dim: int,
                 output_dim: int) -> None:
        self._encoder_class = encoder_class
        self._input_dim = input_dim
        self._output_dim = output_dim

    def __call__(self, *, input_dim: int, output_dim: int, **kwargs):
        """Build the encoder, ignoring garage's sizes.

        Args:
            input_dim (int): garage's input size (ignored).
            output_dim (int): garage's output size (ignored).
            **kwargs: Other encoder arguments (``hidden_sizes``).

        Returns:
            garage.torch.embeddings.ContextEncoder: The encoder.

        """
        del input_dim, output_dim
        return self._encoder_class(input_dim=self._input_dim,
                                   output_dim=self._output_dim,
                                   **kwargs)


def sized_encoder_class(env, kwargs: Dict[str, Any]):
    """The ``encoder_class`` argument of garage's PEARL for these settings.

    Args:
        env (list[EnvUpdate]): The training tasks' environment updates
            (the first is built once to read the spaces, only when the sizes
            differ from garage's).
        kwargs (dict): garage PEARL's keyword arguments (``latent_dim``,
            ``use_next_obs_in_context``, ``use_information_bottleneck``,
            ``encoder_class``).

    Returns:
        type or EncoderWithDims: garage's choice when its sizes are right
            (o, a, r in; a Gaussian factor out), else a factory with the
            right ones.

    """
    encoder_class = kwargs.get('encoder_class', MLPEncoder)
    use_next_obs = kwargs.get('use_next_obs_in_context', False)
    use_ib = kwargs.get('use_information_bottleneck', True)
    if not use_next_obs and use_ib:
        return encoder_class
    probe = env[0]()
    obs_dim = probe.observation_space.flat_dim
    action_dim = probe.action_space.flat_dim
    probe.close()
    latent_dim = kwargs['latent_dim']
    return EncoderWithDims(encoder_class,
                           input_dim=context_width(obs_dim, action_dim,
                                                   use_next_obs),
                           output_dim=2 * latent_dim if use_ib else latent_dim)


def context_fields(use_next_obs: bool) -> Tuple[str, ...]:
    """The transition fields of PEARL's context, in its order.

    Args:
        use_next_obs (bool): The next observation is in the context.

    Returns:
        tuple[str, ...]: ``observations``, ``actions``, ``rewards`` and,
            with ``use_next_obs``, ``next_observations``.

    """
    fields = ('observations', 'actions', 'rewards')
    return fields + ('next_observations', ) if use_next_obs else fields


def context_tensor(batch: Mapping[str, np.ndarray],
                   use_next_obs: bool) -> torch.Tensor:
    """Join transition fields into PEARL's context layout.

    Args:
        batch (dict[str, np.ndarray]): ``observations``, ``actions``,
            ``rewards`` (trailing size 1) and, with ``use_next_obs``,
            ``next_observations``; any leading shape.
        use_next_obs (bool): The next observation is in the context.

    Returns:
        torch.Tensor: (o, a, r[, o']) concatenated on the last axis, as a
            float tensor on garage's device.

    """
    return to_device(np.concatenate(
        [batch[field] for field in context_fields(use_next_obs)], axis=-1))


def group_posteriors(encoder_output: torch.Tensor, latent_dim: int,
                     use_information_bottleneck: bool
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Posterior over z of groups of transitions, as PEARL infers it.

    With the information bottleneck, the product of the Gaussian factors of
    each group's transitions (mean, softplus variance); without it, the
    mean of their outputs and variance 0.

    Args:
        encoder_output (torch.Tensor): :math:`(N, W, D)`: N groups (tasks'
            contexts, or windows) of W transitions.
        latent_dim (int): Size of z.
        use_information_bottleneck (bool): The encoder outputs Gaussian
            factors (else z itself).

    Returns:
        tuple[torch.Tensor, torch.Tensor]: Mean and variance of each group,
            :math:`(N, L)` each.

    """
    if not use_information_bottleneck:
        mean = encoder_output.mean(dim=1)
        return mean, torch.zeros_like(mean)
    return product_of_gaussians(encoder_output[..., :latent_dim],
                                F.softplus(encoder_output[..., latent_dim:]),
                                dim=1)
