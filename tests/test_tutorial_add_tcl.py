"""docs/tutorial-add-tcl.md runs as written: TCL added to a small
actor-critic that is not in the library trains its encoder, the TCL loss
falls, and the key encoder follows the encoder by its EMA."""
import pathlib
import re

import numpy as np
import torch

TUTORIAL = (pathlib.Path(__file__).resolve().parents[1] / 'docs' /
            'tutorial-add-tcl.md')


def tutorial_code():
    """The tutorial's python blocks, in order, as one script."""
    return '\n'.join(re.findall(r'```python\n(.*?)```',
                                TUTORIAL.read_text(), re.S))


def test_the_tutorial_runs_and_its_tcl_loss_falls():
    namespace = {}
    exec(compile(tutorial_code(), str(TUTORIAL), 'exec'), namespace)  # noqa
    losses = namespace['tcl_losses']
    assert len(losses) == 60 and np.isfinite(losses).all()
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


def test_the_tutorial_host_trains_its_encoder_with_tcl_and_the_key_follows():
    namespace = {}
    code = tutorial_code().split('algo = ContextActorCritic')[0]
    exec(compile(code, str(TUTORIAL), 'exec'), namespace)  # noqa
    algo = namespace['ContextActorCritic'](
        [namespace['GoalTask'](goal) for goal in (-1.0, 1.0)])
    algo.collect()
    algo.collect()
    key_before = [p.clone() for p in algo.tcl.key_encoder.parameters()]
    statistics = algo.train_step()
    assert set(statistics) == {'TCLLoss', 'TCLAccuracy', 'TCLWindowSize',
                               'TCLShortWindowFraction'}
    assert statistics['TCLWindowSize'] == 8.0
    # The encoder got gradients (critic and TCL losses); the key encoder
    # none, and moved 0.05 of the way to the stepped encoder.
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in algo.encoder.parameters())
    for before, key, live in zip(key_before, algo.tcl.key_encoder.parameters(),
                                 algo.encoder.parameters()):
        assert key.grad is None and not key.requires_grad
        torch.testing.assert_close(key, torch.lerp(before, live.detach(),
                                                   0.05))
    # With TCL off (scale 0): no TCL loss, and the key encoder stays.
    algo.tcl.contrastive_loss_scale = 0.0
    key_before = [p.clone() for p in algo.tcl.key_encoder.parameters()]
    assert algo.train_step() == {}
    assert all(torch.equal(a, b) for a, b in
               zip(key_before, algo.tcl.key_encoder.parameters()))
