"""MQL's TD3 step (Fujimoto et al., 2018), written out with a comment at
each gradient fact: the critic's step, then (delayed) the actor's and the
target networks'.

:class:`TD3Step` is a mixin of :class:`~tcl_garage.algos.MQL`: meta-training
(:meth:`~tcl_garage.algos.MQL._train_step`, where TCL's term joins the
critic's loss) and adaptation at meta-test (propensity weights, a proximal
penalty) call its two halves with what they need.
"""
from typing import Any, Callable, Dict, Optional, Tuple

import torch
from torch import nn

from tcl_garage.algos.tensors import zero_grad
from tcl_garage.tcl.momentum import soft_update_

#: A term added to the critic's loss, and its statistics.
AuxiliaryLoss = Callable[[], Tuple[Any, Dict[str, Any]]]


class TD3Step:
    """The TD3 step on ``self._actor``, ``self._critic``, their targets and
    optimizers (an MQL's attributes)."""

    def _critic_step(
        self,
        batch: Dict[str, torch.Tensor],
        weights: Optional[torch.Tensor] = None,
        anchor: Optional[Tuple[nn.Module, nn.Module]] = None,
        auxiliary_loss: Optional[AuxiliaryLoss] = None
    ) -> Tuple[torch.Tensor, torch.Tensor, Dict[str, Any]]:
        """One step of both Q-functions and the critic's context encoder.

        Args:
            batch (dict[str, torch.Tensor]): :data:`~tcl_garage.algos.
                mql_replay.BATCH_FIELDS`.
            weights (torch.Tensor or None): :math:`(B, 1)` propensities
                weighting each transition's loss; None: equal.
            anchor (tuple or None): ``(actor, critic)`` of the meta-trained
                parameters: adds ``proximal_coef * |theta - theta_anchor|^2``;
                None: no penalty.
            auxiliary_loss (Callable or None): A term on the critic's
                context encoder, added before the one step on the sum
                (TCLMQL: TCL's); None: none.

        Returns:
            tuple: The critic loss and Q1's predictions (detached by the
                caller), and the auxiliary term's statistics.

        """
        obs, actions = batch['observations'], batch['actions']
        rewards, dones = batch['rewards'], batch['dones']
        next_obs = batch['next_observations']
        history, next_history = batch['history'], batch['next_history']
        low, high = self._actor.action_low, self._actor.action_high
        with torch.no_grad():
            # TD3's target policy smoothing: clipped noise on the target
            # actor's action. The next observation's context reads the
            # history that ends with this transition.
            noise = (torch.randn_like(actions) * self._policy_noise).clamp(
                -self._noise_clip, self._noise_clip) * (high - low) / 2
            next_actions = torch.max(torch.min(
                self._target_actor(next_obs, next_history) + noise, high),
                                     low)
            target_q1, target_q2 = self._target_critic(next_obs, next_actions,
                                                       next_history)
            # Clipped double Q: the smaller target; no value past a terminal.
            q_target = rewards + (1 - dones) * self._discount * torch.min(
                target_q1, target_q2)
        # The critic's context encoder gets gradients from the critic loss
        # (and from the auxiliary term) only.
        critic_context = self._critic.context(history)
        q1, q2 = self._critic.q_values(obs, actions, critic_context)
        squared_errors = (q1 - q_target).square() + (q2 - q_target).square()
        critic_loss = _weighted_mean(squared_errors, weights)
        critic_objective = critic_loss
        statistics: Dict[str, Any] = {}
        if auxiliary_loss is not None:
            # TCL (TCLMQL): contrastive_loss_scale * L_TCL on the critic's
            # context encoder; ONE step on the sum (Algorithm 2, line 15).
            term, statistics = auxiliary_loss()
            critic_objective = critic_objective + term
        if anchor is not None:
            critic_objective = critic_objective + (
                self._proximal_coef * _squared_distance(self._critic,
                                                        anchor[1]))
        zero_grad(self._critic_optimizer)
        critic_objective.backward()
        self._critic_optimizer.step()
        return critic_loss, q1, statistics

    def _actor_step(
            self,
            batch: Dict[str, torch.Tensor],
            weights: Optional[torch.Tensor] = None,
            anchor: Optional[Tuple[nn.Module, nn.Module]] = None
    ) -> torch.Tensor:
        """The delayed step: the actor through the critic's first
        Q-function, then both target networks.

        Args:
            batch (dict[str, torch.Tensor]): As :meth:`_critic_step`'s.
            weights (torch.Tensor or None): As :meth:`_critic_step`'s.
            anchor (tuple or None): As :meth:`_critic_step`'s.

        Returns:
            torch.Tensor: The actor loss.

        """
        obs, history = batch['observations'], batch['history']
        # The updated critic's context, as a constant: the actor's gradient
        # reaches Q through the action only.
        with torch.no_grad():
            critic_context = self._critic.context(history)
        actor_actions = self._actor(obs, history)
        q_actor = self._critic.q_values(obs, actor_actions,
                                        critic_context)[0]
        actor_loss = -_weighted_mean(q_actor, weights)
        actor_objective = actor_loss
        if anchor is not None:
            actor_objective = actor_objective + (
                self._proximal_coef * _squared_distance(self._actor,
                                                        anchor[0]))
        zero_grad(self._actor_optimizer)
        # The actor loss steps the actor and its own context encoder only:
        # the critic's parameters receive nothing from it.
        actor_objective.backward(inputs=list(self._actor.parameters()))
        self._actor_optimizer.step()
        soft_update_(self._target_critic, self._critic, self._tau)
        soft_update_(self._target_actor, self._actor, self._tau)
        return actor_loss


def _weighted_mean(values: torch.Tensor,
                   weights: Optional[torch.Tensor]) -> torch.Tensor:
    """The mean of ``values`` (each row times its weight, if given)."""
    return (values if weights is None else weights * values).mean()


def _squared_distance(module: nn.Module, anchor: nn.Module) -> torch.Tensor:
    """``sum |theta - theta_anchor|^2`` over the parameters (MQL's
    proximal term; the anchor's parameters are constants)."""
    return sum((p - q.detach()).square().sum()
               for p, q in zip(module.parameters(), anchor.parameters()))
