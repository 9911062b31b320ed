#!/usr/bin/env python3
"""A floor under PEARL's training step: the same step with the least framework.

Builds, at a preset's sizes (``step_time.py``'s presets; ``--profile
cpu-hour`` for the small networks of the studies), PEARL's gradient step
written in plain torch: the same networks, losses, backward passes and
updates, with every shortcut that keeps that arithmetic (its rounding and
random draws differ: a floor, not an implementation; nothing trains with
it):

* every network a list of tensors (no modules, no distribution objects),
  the two Q-functions stacked into one (``baddbmm`` over stacked
  weights, as every network is);
* every task's batch and context gathered in one indexing operation from
  tensors holding all tasks (no per-task buffers, no host arrays);
* two fused Adam optimizers (critics and encoder; value function and
  policy) instead of five, and no statistics.

It times that step round-robin beside this checkout's PEARL (``--adam``
picks its Adam kernel) and, with ``--against PATH``, PATH's PEARL too,
each checkout in its own process (``step_time.py``'s workers, which step
TCL-PEARL and its scale-0 path beside PEARL each round, as in
``step_time.py --against``; the floor in this process), and prints each
median, its operator calls, each PEARL over the floor with its 95 %
bootstrap interval (how much of a step any change that keeps its
arithmetic can still remove) and, with PATH, PATH over this checkout.
``--seeds N`` steps N seeds' networks stacked in the floor instead and
compares each PEARL step with the floor's time per seed: what paying the
fixed cost once for several runs would give.

    python benchmarks/step_floor.py --preset cheetah-vel --profile cpu-hour \\
        --steps 300 --clock cpu
    python benchmarks/step_floor.py --preset cheetah-vel --profile cpu-hour \\
        --against ../tcl_garage-before --steps 300 --clock cpu
    python benchmarks/step_floor.py --preset cheetah-vel --profile cpu-hour \\
        --seeds 4 --steps 300 --clock cpu
"""
import argparse
import inspect
import pathlib
import statistics
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

import tcl_garage  # noqa: F401  (adapts garage and gym before they load)
from garage.torch.algos import PEARL as GaragePEARL  # noqa: E402
from garage.torch.policies import TanhGaussianMLPPolicy  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import step_time  # noqa: E402  pylint: disable=wrong-import-position

from tcl_garage.algos.context_encoder import (context_fields,  # noqa: E402
                                              context_width)
from tcl_garage.analysis.statistics import paired_ratio  # noqa: E402
from tcl_garage.experiment import load_config  # noqa: E402
from tcl_garage.tcl import (kl_to_standard_normal,  # noqa: E402
                            product_of_gaussians)

#: Slots of each task's synthetic data (as many as ``step_time.build``
#: fills).
CAPACITY = step_time.EPISODES_PER_TASK * step_time.EPISODE_LENGTH
#: The bounds of log std in PEARL's policy (garage's defaults).
LOG_STD_RANGE = tuple(
    float(np.log(inspect.signature(TanhGaussianMLPPolicy).parameters[name]
                 .default)) for name in ('min_std', 'max_std'))


def mlp_parameters(sizes: Sequence[int], generator: torch.Generator,
                   networks: int) -> List[torch.Tensor]:
    """Weights and biases of ``networks`` MLPs stacked, ``[w0, b0, w1, b1,
    ...]``: weights :math:`(E, in, out)`, biases :math:`(E, 1, out)` (for
    ``baddbmm``).

    Args:
        sizes (Sequence[int]): Input, hidden and output widths.
        generator (torch.Generator): Randomness of the weights.
        networks (int): E.

    Returns:
        list[torch.Tensor]: Leaf tensors that require gradients.

    """
    parameters = []
    for width_in, width_out in zip(sizes[:-1], sizes[1:]):
        bound = width_in ** -0.5
        weight = (torch.rand((networks, width_in, width_out),
                             generator=generator) * 2 - 1) * bound
        bias = torch.zeros((networks, 1, width_out))
        parameters += [weight.requires_grad_(), bias.requires_grad_()]
    return parameters


def mlp(parameters: Sequence[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Stacked ReLU MLPs with a linear output.

    Args:
        parameters (Sequence[torch.Tensor]): :func:`mlp_parameters`' (E
            networks).
        x (torch.Tensor): Each network's inputs, :math:`(E, N, in)`.

    Returns:
        torch.Tensor: Each network's outputs, :math:`(E, N, out)`.

    """
    layers = len(parameters) // 2
    for layer in range(layers):
        x = torch.baddbmm(parameters[2 * layer + 1], x, parameters[2 * layer])
        if layer < layers - 1:
            x = F.relu(x)
    return x


class FloorPEARLStep:
    """PEARL's gradient step in plain torch, at a preset's sizes, for one
    seed or several stacked.

    Every network is ``seeds`` (S) networks stacked (weights :math:`(S,
    in, out)`, ``baddbmm``; the two Q-functions 2 S) and one step steps
    all S: each seed's tasks, transitions and losses are its own and the
    losses are summed, so each seed gets the gradients it would get
    alone, and the step's fixed cost is paid once for all.
    Has ``_optimize_policy(indices)`` so that ``step_time.time_step`` and
    ``step_time.operator_calls`` time and count it as they do PEARL.

    Args:
        sizes (dict): ``step_time.preset_sizes``.
        config (dict): The preset benchmark's PEARL config (learning
            rates, reward scale, discount, KL weight, target rate).
        seeds (int): S, networks of each kind stepped together.
        seed (int): Seed of every random draw.

    """

    def __init__(self, sizes: Dict, config: Dict, seeds: int = 1,
                 seed: int = 0) -> None:
        if seeds < 1:
            raise ValueError(f'seeds must be >= 1, got {seeds}')
        self.seeds = seeds
        self._generator = torch.Generator().manual_seed(seed)
        obs, act, latent = (sizes['obs_dim'], sizes['act_dim'],
                            sizes['latent_dim'])
        hidden = list(sizes['net_sizes'])
        self._sizes = sizes
        self._config = config
        defaults = inspect.signature(GaragePEARL).parameters
        self._mean_reg = defaults['policy_mean_reg_coeff'].default
        self._std_reg = defaults['policy_std_reg_coeff'].default
        self._pre_activation_reg = defaults[
            'policy_pre_activation_coeff'].default
        generator = self._generator
        use_next_obs = config['use_next_obs_in_context']
        self._context_fields = context_fields(use_next_obs)
        self.encoder = mlp_parameters(
            [context_width(obs, act, use_next_obs),
             *sizes['encoder_hidden_sizes'], 2 * latent],
            generator, seeds)
        # Q1 of every seed, then Q2 of every seed: (2 S, in, out).
        self.critics = mlp_parameters([obs + act + latent, *hidden, 1],
                                      generator, 2 * seeds)
        self.vf = mlp_parameters([obs + latent, *hidden, 1], generator,
                                 seeds)
        self.target_vf = [p.detach().clone() for p in self.vf]
        self.policy = mlp_parameters([obs + latent, *hidden, 2 * act],
                                     generator, seeds)
        self.critic_optimizer = torch.optim.Adam(
            [{'params': self.critics, 'lr': config['qf_lr']},
             {'params': self.encoder, 'lr': config['context_lr']}],
            fused=True)
        self.actor_optimizer = torch.optim.Adam(
            [{'params': self.vf, 'lr': config['vf_lr']},
             {'params': self.policy, 'lr': config['policy_lr']}],
            fused=True)
        tasks = sizes['num_train_tasks']

        def field(width):
            return torch.randn((tasks, CAPACITY, width), generator=generator)

        self.storage = {'observations': field(obs), 'actions': field(act),
                        'rewards': field(1), 'next_observations': field(obs),
                        'dones': torch.zeros(tasks, CAPACITY, 1)}

    def _gather(self, tasks: torch.Tensor, rows: int,
                fields: Sequence[str]) -> List[torch.Tensor]:
        """``rows`` random transitions of each seed's tasks (``tasks``,
        :math:`(S, T)`), each field in one indexing operation: each
        :math:`(S, T, rows, dim)`."""
        slots = torch.randint(CAPACITY, (*tasks.shape, rows),
                              generator=self._generator)
        return [self.storage[name][tasks[:, :, None], slots]
                for name in fields]

    def _critics(self, inputs: torch.Tensor) -> torch.Tensor:
        """Both Q-functions of every seed: :math:`(S, N, in)` to
        :math:`(2, S, N, 1)`."""
        seeds = self.seeds
        stacked = inputs.expand(2, *inputs.shape).reshape(
            2 * seeds, *inputs.shape[1:])
        return mlp(self.critics, stacked).view(2, seeds, -1, 1)

    def _optimize_policy(self, indices) -> None:
        """One gradient step of every network: the first seed's on the
        tasks ``indices``, each other seed's on as many tasks of its own
        draw."""
        config, sizes = self._config, self._sizes
        latent, act = sizes['latent_dim'], sizes['act_dim']
        first = torch.as_tensor(np.asarray(indices))[None]
        tasks = torch.cat([first, torch.randint(
            sizes['num_train_tasks'], (self.seeds - 1, first.shape[1]),
            generator=self._generator)])
        obs, actions, rewards, next_obs, dones = (
            values.flatten(1, 2)
            for values in self._gather(tasks, sizes['batch_size'],
                                       list(self.storage)))
        context = torch.cat(self._gather(tasks, sizes['context'],
                                         self._context_fields), dim=-1)

        # Posterior and z; the encoder learns from the critics and the KL.
        factors = mlp(self.encoder, context.flatten(1, 2)).unflatten(
            1, context.shape[1:3])
        z_means, z_vars = product_of_gaussians(
            factors[..., :latent], F.softplus(factors[..., latent:]), dim=2)
        noise = torch.randn(z_means.shape, generator=self._generator)
        z = (z_means + z_vars.sqrt() * noise).repeat_interleave(
            sizes['batch_size'], 1)

        q = self._critics(torch.cat([obs, actions, z], -1))
        with torch.no_grad():
            target_v = mlp(self.target_vf, torch.cat([next_obs, z], -1))
            q_target = (rewards * config['reward_scale'] +
                        (1. - dones) * config['discount'] * target_v)
        # Each Q-function's and seed's mean, summed: each seed its own.
        qf_loss = (q - q_target).pow(2).mean(dim=(2, 3)).sum()
        kl_loss = config['kl_lambda'] * kl_to_standard_normal(z_means,
                                                              z_vars)
        self.critic_optimizer.zero_grad()
        (qf_loss + kl_loss).backward()
        self.critic_optimizer.step()

        # Policy and V on z detached; tanh-Gaussian actions.
        z = z.detach()
        obs_z = torch.cat([obs, z], -1)
        outputs = mlp(self.policy, obs_z)
        mean = outputs[..., :act]
        log_std = outputs[..., act:].clamp(*LOG_STD_RANGE)
        std = log_std.exp()
        pre_tanh = mean + std * torch.randn(mean.shape,
                                            generator=self._generator)
        new_actions = torch.tanh(pre_tanh)
        log_pi = (-0.5 * ((pre_tanh - mean) / std).pow(2) - log_std -
                  0.5 * np.log(2 * np.pi) -
                  torch.log1p(-new_actions.pow(2) + 1e-6)).sum(
                      -1, keepdim=True)
        q_new = self._critics(torch.cat([obs, new_actions, z], -1))
        min_q = torch.min(q_new[0], q_new[1])
        vf_loss = (mlp(self.vf, obs_z) - (min_q - log_pi).detach()).pow(
            2).mean(dim=(1, 2)).sum()
        policy_loss = ((log_pi - min_q).mean(dim=(1, 2)) +
                       self._mean_reg * mean.pow(2).mean(dim=(1, 2)) +
                       self._std_reg * log_std.pow(2).mean(dim=(1, 2)) +
                       self._pre_activation_reg *
                       pre_tanh.pow(2).sum(dim=-1).mean(dim=1)).sum()
        self.actor_optimizer.zero_grad()
        (vf_loss + policy_loss).backward(inputs=self.vf + self.policy)
        self.actor_optimizer.step()
        with torch.no_grad():
            torch._foreach_lerp_(self.target_vf, self.vf,
                                 config['soft_target_tau'])


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Time the floor beside PEARL (see the module's docstring).

    Args:
        argv (Sequence[str] or None): Arguments; None: the command line's.

    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--preset', choices=sorted(step_time.PRESETS),
                        default='cheetah-vel')
    parser.add_argument('--profile', default=None,
                        help='sizes of a config profile (e.g. cpu-hour)')
    parser.add_argument('--steps', type=int, default=20,
                        help='timed rounds (one step of each in turn)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps of each first')
    parser.add_argument('--op-steps', type=int, default=5,
                        help='profiled steps that count operator calls')
    parser.add_argument('--adam', nargs='+', choices=('foreach', 'fused'),
                        default=['foreach'],
                        help="Adam's kernel of this checkout's PEARL (both: "
                        'one PEARL of each, in one run)')
    parser.add_argument('--against', metavar='PATH',
                        help='also time the PEARL of the checkout at PATH')
    parser.add_argument('--clock', choices=sorted(step_time.CLOCKS),
                        default='wall', help='as step_time.py --clock')
    parser.add_argument('--seeds', type=int, default=1,
                        help='seeds the floor steps together (stacked '
                        'networks): prints each PEARL over its time per '
                        'seed, and the one-seed floor beside it')
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or args.op_steps < 1 or (
            args.seeds < 1):
        parser.error('--steps, --op-steps and --seeds must be >= 1, '
                     '--warmup >= 0')
    step_time.check_profile(parser, args.preset, args.profile)
    other = None
    if args.against:
        other = step_time.checkout_root(args.against)
        if other is None:
            parser.error(f'--against {args.against} holds no tcl_garage/: '
                         'give the root of a checkout')
    sizes = step_time.preset_sizes(args.preset, args.profile)
    config = load_config(step_time.PRESETS[args.preset][0], algo='pearl',
                         profile=args.profile)
    if not config['use_information_bottleneck']:
        parser.error('the floor is PEARL with its information bottleneck: '
                     'give a preset whose config uses it')
    floors = {'floor': FloorPEARLStep(sizes, config, seeds=args.seeds)}
    if args.seeds > 1:  # the stacking's own gain, in the same run
        floors['floor, 1 seed'] = FloorPEARLStep(sizes, config)
    # Each PEARL in its own process (step_time.py's workers, asked for
    # their PEARL only), as the floor is in this one.
    worker_args = argparse.Namespace(preset=args.preset, profile=args.profile,
                                     warmup=args.warmup, device='cpu',
                                     clock=args.clock)
    this = pathlib.Path(__file__).resolve().parents[1]
    checkouts = {f'this, {adam}': step_time.Checkout(this, worker_args, adam)
                 for adam in dict.fromkeys(args.adam)}
    if other is not None:
        checkouts['other'] = step_time.Checkout(other, worker_args)
    np.random.seed(0)
    step_args = (sizes['meta_batch_size'], sizes['num_train_tasks'], 'cpu')
    for floor in floors.values():
        for _ in range(args.warmup):
            step_time.time_step(floor, *step_args)
    times = {name: [] for name in (*floors, *checkouts)}
    for _ in range(args.steps):  # round-robin
        for name, floor in floors.items():
            times[name].append(step_time.time_step(floor, *step_args,
                                                   args.clock))
        for name, checkout in checkouts.items():
            times[name].append(checkout.ask('step pearl')[0])
    calls = {name: step_time.operator_calls(floor, sizes, args.op_steps,
                                            'cpu')[0]
             for name, floor in floors.items()}
    for name, checkout in checkouts.items():
        calls[name] = checkout.ask(f'ops {args.op_steps} pearl')[0][0]
        checkout.close()
    labels = {'floor': ('floor' if args.seeds == 1 else
                        f'floor, {args.seeds} seeds stacked'),
              'floor, 1 seed': 'floor, 1 seed',
              'other': f'PEARL, {other} (its default)',
              **{name: f'PEARL, this checkout (adam={name[6:]})'
                 for name in checkouts if name.startswith('this, ')}}
    print(f'preset {args.preset}'
          f'{f" ({args.profile} sizes)" if args.profile else ""}: torch '
          f'{torch.__version__}, {step_time.where("cpu")}, {args.clock} '
          f'clock, median of {args.steps} rounds')
    for name in times:
        print(f'  {labels[name]:40s} {statistics.median(times[name]):.4f} '
              f's/step  {calls[name]:6.0f} operator calls/step')
    # Several seeds: each PEARL step against the floor's time per seed.
    per_seed = [seconds / args.seeds for seconds in times['floor']]
    suffix = ' / floor' if args.seeds == 1 else ' / floor per seed'
    for name in checkouts:
        ratio = paired_ratio(times[name], per_seed)
        print(f'  {name + suffix:40s} {ratio.text(3)}')
    if args.seeds > 1:
        ratio = paired_ratio(times['floor, 1 seed'], per_seed)
        print(f'  {"floor, 1 seed" + suffix:40s} {ratio.text(3)}')
    if other is not None:
        for name in checkouts:
            if name != 'other':
                ratio = paired_ratio(times['other'], times[name])
                print(f'  {"other / " + name:40s} {ratio.text(3)}')


if __name__ == '__main__':
    main()
