"""The size of PEARL's context encoder: its input (one transition: o, a,
r and, with ``use_next_obs_in_context``, o') and its output (a Gaussian
factor, or z itself without the information bottleneck), which garage
fixed whatever the settings."""


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
