"""The command-level scheduler, and its fast path equal to the full schedule."""

from dataclasses import replace

import pytest
from hypothesis import assume, given, settings

from accelsim import AccelsimError, arch, mapping, schedule, workloads
from accelsim.commands import Op
from tests.strategies import archs, layers


def lowered(layer, cfg):
    try:
        return mapping.lower(layer, cfg)
    except AccelsimError:
        assume(False)


def test_single_step_layer_by_hand():
    # One step: CONFIG x5 at 0,HI..4HI; LOAD_W at 5HI; LOAD_X at 6HI; PRELOAD 7HI; COMPUTE 8HI; STORE 9HI.
    cfg = arch.ArchConfig(array_rows=4, array_cols=4, dram_bytes_per_cycle=4, dram_latency_cycles=10,
                          host_issue_cycles=2, queue_depth=4)
    layer = mapping.ConvLayer(M=4, C=4, H=2, W=2)  # P=4, K=4, M=4: one tile, one step
    m = mapping.lower(layer, cfg)
    prog = mapping.program(m)
    assert [c.op for c in prog] == [Op.CONFIG] * 5 + [
        Op.LOAD,
        Op.LOAD,
        Op.PRELOAD,
        Op.COMPUTE,
        Op.STORE,
        Op.FENCE,
    ]
    s = schedule.schedule(prog, cfg)
    ld_w, ld_x, pre, comp, st = s.cycles[5:10]
    assert ld_w == (10, 11, 11 + 1 + 4, 11 + 5 + 10)  # 4 rows x 1 beat
    assert ld_x[1] == ld_w[2] and ld_x[3] == ld_x[2] + 10  # LD unit free at end; data lands L later
    assert pre[1] == ld_x[3]  # waits for the l2e token (data landed)
    assert comp[1] == pre[2] and comp[2] == comp[1] + 1 + 4 + 4 + 4 + 1
    assert st[1] == comp[2] and st[2] == st[1] + 2 + 4 * 4 and st[3] == st[2] + 10
    assert s.total_cycles == st[3]
    # The EX unit idles until the PRELOAD (31 cycles) and after the COMPUTE (28). With an instant host the
    # LOADs run from cycle 1 (PRELOAD at 1 + 5 + 5 + 10 = 21): 10 cycles (the CONFIGs' 5 HI) are the host's
    assert s.ex_idle_cycles == (21, 28, 10)  # DRAM load, DRAM store, host


@given(layers(max_c=20, max_m=20, max_hw=12), archs())
def test_fast_schedule_equals_full_schedule(layer, cfg):
    m = lowered(layer, cfg)
    full = schedule.schedule(mapping.program(m), cfg)
    fast = schedule.schedule_fast(m, cfg)
    assert fast.total_cycles == full.total_cycles
    assert (
        fast.ex_stream_cycles,
        fast.ex_fill_drain_cycles,
        fast.ex_preload_cycles,
        fast.ex_idle_cycles,
        fast.commands,
    ) == (full.ex_stream_cycles, full.ex_fill_drain_cycles, full.ex_preload_cycles, full.ex_idle_cycles,
          full.commands)


@pytest.mark.parametrize("preset", ["gemmini", "eyeriss", "tpu_v1"])
def test_fast_schedule_equals_full_schedule_on_real_layers(preset):
    cfg = arch.preset(preset)
    for layer in workloads.load("resnet18")[::4] + workloads.load("mobilenetv2")[1:4]:
        m = mapping.lower(layer, cfg)
        full = schedule.schedule(mapping.program(m), cfg)
        assert schedule.schedule_fast(m, cfg).total_cycles == full.total_cycles
        assert schedule.schedule_fast(m, cfg).commands == full.commands == len(mapping.program(m))


@given(layers(), archs())
def test_schedule_rules_hold_per_command(layer, cfg):
    """Every command: dispatch in order at >= HI apart, starts after dispatch, units in order, no overlap."""
    m = lowered(layer, cfg)
    prog = mapping.program(m)
    s = schedule.schedule(prog, cfg)
    last_end = {}
    for i, (cmd, (d, start, end, done)) in enumerate(zip(prog, s.cycles, strict=True)):
        if i:
            assert d >= s.cycles[i - 1][0] + cfg.host_issue_cycles
        if cmd.unit is None:
            continue
        assert start >= d + 1 and end > start and done >= end
        assert start >= last_end.get(cmd.unit, 0)
        last_end[cmd.unit] = end
    assert s.total_cycles == max(c[3] for c in s.cycles)


@settings(max_examples=25)
@given(layers(max_c=12, max_m=12, max_hw=8), archs())
def test_compiled_engine_equals_interpreted(layer, cfg):
    """The state machine (accelsim.engine) compiled and interpreted: the same schedule, field for field."""
    m = lowered(layer, cfg)
    assert schedule.schedule_fast(m, cfg) == schedule.schedule_fast(m, cfg, interpreted=True)
    prog = mapping.program(m)
    assert schedule.schedule(prog, cfg) == schedule.schedule(prog, cfg, interpreted=True)


def test_a_broken_token_protocol_is_caught():
    cfg = arch.ArchConfig(array_rows=4, array_cols=4)
    prog = mapping.program(mapping.lower(mapping.ConvLayer(M=8, C=8, H=4, W=4), cfg))
    dropped = [replace(c, push_next=0) if c.op == Op.LOAD and c.push_next else c for c in prog]
    with pytest.raises(AssertionError, match="token pop finds its counter empty"):
        schedule.schedule(dropped, cfg)


def test_nothing_dispatches_while_a_fence_waits():
    """Two layers back to back: the second layer's first command dispatches no earlier than the cycle after
    the first FENCE's release (the controller refuses commands while a FENCE waits), and the second
    layer then runs as it would alone, shifted."""
    from accelsim.layer import ConvLayer

    cfg = arch.preset("gemmini")
    a = mapping.program(mapping.lower(ConvLayer(name="a", N=1, M=32, C=16, H=8, W=8, R=3, S=3, pad=1), cfg))
    b = mapping.program(mapping.lower(ConvLayer(name="b", N=1, M=16, C=32, H=6, W=6, R=1, S=1), cfg))
    both = schedule.schedule(a + b, cfg)
    release = both.done[len(a) - 1]
    assert both.dispatch[len(a)] == max(both.dispatch[len(a) - 1] + cfg.host_issue_cycles, release + 1)
    assert both.dispatch[len(a)] == release + 1  # a layer's FENCE waits far longer than HI
    alone = schedule.schedule(b, cfg)
    shift = both.dispatch[len(a)] - alone.dispatch[0]
    assert both.total_cycles == alone.total_cycles + shift


def _run_hi(prog, cfg, HI):
    """The engine's rule on ``prog`` with host issue time ``HI`` (0: the instant host of the breakdown's
    shadow, which ArchConfig does not accept): the per-command record and the state."""
    import numpy as np

    from accelsim import engine
    from accelsim.timing import systolic_array_fill_drain_cycles

    table = schedule.timing_table(prog, cfg, interpreted=True)
    st = np.zeros(engine.S_LEN, np.int64)
    qs, qm, pend, pm = engine.new_state(st, HI, cfg.queue_depth, systolic_array_fill_drain_cycles(
        cfg.dataflow.code, cfg.array_rows, cfg.array_cols))
    record = np.zeros((len(prog), 4), np.int64)
    engine.run_commands(st, qs, qm, pend, pm, table, len(prog), record, 0)
    engine.finish(st, pm)
    return record, st


@given(layers(max_c=16, max_m=16, max_hw=8), archs())
def test_host_stall_is_the_largest_lateness_against_an_instant_host(layer, cfg):
    """docs "Cycle breakdown": host stall = max(0, max over EX commands of start - start0, T - T0), where
    start0 and T0 come from the same program scheduled with HI = 0; the buckets sum to the cycles."""
    m = lowered(layer, cfg)
    prog = mapping.program(m)
    s = schedule.schedule(prog, cfg)
    shadow, _ = _run_hi(prog, cfg, 0)
    late = [s.start[i] - shadow[i, 1] for i, c in enumerate(prog) if c.op in (Op.PRELOAD, Op.COMPUTE)]
    assert min(late) >= 0 and s.total_cycles >= shadow[:, 3].max()
    assert s.ex_idle_cycles[2] == max(0, *late, s.total_cycles - shadow[:, 3].max())
    assert min(s.ex_idle_cycles) >= 0
    assert (s.ex_stream_cycles + s.ex_fill_drain_cycles + s.ex_preload_cycles + sum(s.ex_idle_cycles)
            == s.total_cycles)


def _single_step():
    cfg = arch.ArchConfig(array_rows=4, array_cols=4, dram_bytes_per_cycle=4, dram_latency_cycles=10,
                          host_issue_cycles=2, queue_depth=4)
    return cfg, mapping.program(mapping.lower(mapping.ConvLayer(M=4, C=4, H=2, W=2), cfg))


def _presented(prog, cfg, late):
    """A host that presents command ``i`` ``late[i]`` cycles after its usual HI (accelsim.host.coupling's
    sink: the engine's rule dispatching at the presentation cycle)."""
    from accelsim.host.coupling import SchedulerSink

    sink = SchedulerSink(cfg, interpreted=True)
    d = -cfg.host_issue_cycles
    for i, c in enumerate(prog):
        d = sink.present(c.words(), d + cfg.host_issue_cycles + late.get(i, 0))
    return sink.finish()


def test_a_load_the_host_issues_late_is_host_stall_not_dram_stall():
    """The streamed LOAD presented 100 cycles late: the PRELOAD waits for its token (before, DRAM stall:
    the token bound its start), but the LOAD was late only because the host was. The wait an instant host
    would leave (21 cycles: the two LOADs and the latency) stays DRAM's; the rest is the host's."""
    cfg, prog = _single_step()
    on_time = schedule.schedule(prog, cfg)
    late = _presented(prog, cfg, {6: 100})  # 5 CONFIGs, LOAD weights, LOAD inputs (6)
    assert late.total_cycles == on_time.total_cycles + 97  # LOAD at 113 instead of 16: PRELOAD at 128
    assert on_time.ex_idle_cycles == (21, 28, 10)
    assert late.ex_idle_cycles == (21, 28, 10 + 97)


def test_where_dram_bandwidth_binds_a_late_host_changes_nothing():
    """A DRAM-bound layer (1 B/cycle): the load unit is busy long after the host presents each LOAD, so
    presenting LOADs late (within that slack) moves no cycle and no idle cycle to the host; the host's
    share is the layer's start only (the CONFIGs, 5 HI: the first LOADs then run back to back)."""
    cfg = arch.ArchConfig(array_rows=4, array_cols=4, dram_bytes_per_cycle=1, dram_latency_cycles=20,
                          host_issue_cycles=3, queue_depth=4, ifmap_spad_kib=1, weight_spad_kib=1, acc_kib=1)
    prog = mapping.program(mapping.lower(mapping.ConvLayer(M=16, C=16, H=8, W=8, R=3, S=3, pad=1), cfg))
    fixed = schedule.schedule(prog, cfg)
    assert fixed.ex_idle_cycles[2] == 5 * cfg.host_issue_cycles
    assert fixed.ex_idle_cycles[0] > fixed.total_cycles // 2  # DRAM-bound
    loads = [i for i, c in enumerate(prog) if c.op == Op.LOAD][2:]  # the step-0 LOADs start the layer
    slack = min(fixed.start[i] - fixed.dispatch[i] - 1 for i in loads)
    assert slack > 10
    late = _presented(prog, cfg, {i: 10 for i in loads[::7]})
    assert late == replace(fixed, cycles=())
