"""The TCL core needs only torch and numpy: in a process where garage,
gymnasium and gym cannot be imported, ``tcl_garage.tcl`` imports, changes
nothing of numpy, and trains an encoder with TCL end to end (windows, loss,
momentum encoder, the component)."""
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: Makes ``import garage`` (and gymnasium, gym, dowel, akro) fail, as on a
#: machine without them, then uses the TCL core.
SCRIPT = textwrap.dedent('''
    import importlib.abc
    import sys

    BLOCKED = ('garage', 'gymnasium', 'gym', 'dowel', 'akro')

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in BLOCKED:
                raise ImportError(f'{name} is blocked in this test')
            return None

    sys.meta_path.insert(0, Blocker())
    import types

    import numpy as np
    import torch

    def numpy_names():
        # Submodules (numpy.random) appear when first imported: not a patch.
        return {name: value for name, value in np.__dict__.items()
                if not isinstance(value, types.ModuleType)}

    before = numpy_names()

    import tcl_garage.tcl as tcl
    from tcl_garage import TCL as root_TCL

    assert root_TCL is tcl.TCL
    assert not any(m.split('.')[0] in BLOCKED for m in sys.modules), [
        m for m in sys.modules if m.split('.')[0] in BLOCKED]
    after = numpy_names()
    assert after.keys() == before.keys() and all(
        after[name] is before[name] for name in before), 'numpy was patched'
    try:
        import garage  # noqa: F401
    except ImportError:
        pass
    else:
        raise AssertionError('garage should be blocked')

    rng = np.random.default_rng(0)
    torch.manual_seed(0)

    def task(offset):
        # 3 episodes of 12 steps; each observation tells its task.
        return tcl.Episodes.concatenated([
            {'observations': (rng.normal(size=(12, 2)) + offset).astype(
                np.float32)} for _ in range(3)])

    tasks = [task(offset) for offset in (-3.0, 0.0, 3.0)]
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 4))
    component = tcl.TCL(encoder, window_size=4, windows_per_task=2,
                        key_encoder_tau=0.1)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        windows, statistics = component.sample(tasks, rng=rng)
        assert statistics['TCLWindowSize'] == 4.0
        assert windows.query['observations'].shape == (6, 4, 2)
        ids = {name: torch.as_tensor(value)
               for name, value in component.pair_ids(windows).items()}
        query = encoder(torch.as_tensor(windows.query['observations']))
        key = component.key_encoder(
            torch.as_tensor(windows.key['observations']))
        loss, _ = component.loss(query, None, key, None, ids)
        before = [p.clone() for p in component.key_encoder.parameters()]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        component.after_step(encoder)
        for old, new, live in zip(before, component.key_encoder.parameters(),
                                  encoder.parameters()):
            torch.testing.assert_close(new,
                                       torch.lerp(old, live.detach(), 0.1))
        losses.append(loss.item())
    # The loss learnt something: its last steps below its first.
    assert np.mean(losses[-10:]) < np.mean(losses[:10]), losses
    # The lower-level functions, too.
    loss = tcl.trajectory_contrastive_loss(
        torch.zeros(3, 2), torch.ones(3, 2), torch.zeros(3, 2),
        torch.ones(3, 2), trajectory_ids=torch.arange(3))
    assert torch.isfinite(loss)
    print('ok', round(losses[0], 3), round(np.mean(losses[-10:]), 3))
''')


def test_the_tcl_core_imports_and_trains_where_garage_cannot_be_imported():
    run = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.startswith('ok'), run.stdout
