"""accelsim.cosim.runner: the build flags reach the simulator (Verilator: top-level-only visibility)."""

from __future__ import annotations

import pytest

from tests.rtl.benches import ROOT

TWO_LEVELS = """
module inner_reg(input clk, input [7:0] d, output [7:0] q);
    reg [7:0] held;
    always @(posedge clk) held <= d;
    assign q = held;
endmodule
module two_levels(input clk, input rst, input [7:0] a, output reg [7:0] b);
    wire [7:0] mid;
    inner_reg inner(.clk(clk), .d(a), .q(mid));
    always @(posedge clk) b <= mid;
endmodule
"""


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("public_internals", [True, False])
def test_verilator_public_internals_flag(tmp_path, public_internals):
    """cocotb builds Verilator models with --public-flat-rw; ``public_internals=False`` must take it back
    (the co-simulation's speed depends on it), and the top level must still work."""
    from accelsim.cosim.runner import run_bench

    src = tmp_path / "two_levels.v"
    src.write_text(TWO_LEVELS)
    tests, failed = run_bench(sim="verilator", verilog_sources=[src], toplevel="two_levels",
                              test_module="tests.rtl.bench_runner", build_dir=tmp_path / "build",
                              python_path=[ROOT], public_internals=public_internals,
                              testcase="inner_signals_follow_the_build_flags",
                              extra_env={"ACCELSIM_INNER_VISIBLE": str(int(public_internals))})
    assert (tests, failed) == (1, 0)


@pytest.mark.rtl
def test_verilator_builds_go_through_ccache():
    """scripts/setup.sh installs ccache with the rtl extra; Verilator builds then share the compiled runtime
    (CI time: each block's build after the first is mostly the design's own code)."""
    from accelsim.cosim.runner import simulator_env

    assert simulator_env("verilator").get("OBJCACHE") == "ccache"


AMARANTH_STYLE = """
module top(clk, rst, go, n, done, count);
  input clk;
  input rst;
  input go;
  input [10:0] n;
  output done;
  output [31:0] count;
  assign done = go;
  assign count = {21'd0, n};
endmodule
"""


def test_register_inputs_wraps_the_top_with_flops_on_every_input_but_clk():
    """The wrapper keeps the top's name and ports; rst starts high (in reset), other inputs low; outputs pass
    straight through; a top without plain declarations or without clk is refused, not half-wrapped."""
    from accelsim.cosim.runner import register_inputs

    from accelsim.errors import AccelsimError

    text = register_inputs(AMARANTH_STYLE, "top")
    assert "module top__core(clk, rst, go, n, done, count);" in text
    wrapper = text[text.rindex("module top("):]
    assert "reg rst_q = 1;" in wrapper and "reg go_q = 0;" in wrapper and "reg [10:0] n_q = 0;" in wrapper
    assert "always @(posedge clk) n_q <= n;" in wrapper and "clk_q" not in wrapper
    ports = ".clk(clk), .rst(rst_q), .go(go_q), .n(n_q), .done(done), .count(count)"
    assert f"top__core core({ports});" in wrapper
    with pytest.raises(AccelsimError, match="input clk"):
        register_inputs(AMARANTH_STYLE.replace("input clk;", "input wire clk;"), "top")


COUNTER = """
module counter(clk, rst, en, count);
  input clk;
  input rst;
  input en;
  output [7:0] count;
  reg [7:0] count = 8'h00;
  always @(posedge clk)
    if (rst) count <= 8'h00;
    else if (en) count <= count + 8'h01;
endmodule
"""


def test_register_inputs_can_make_the_clock():
    """With clock_period_ns the wrapper has no clk port and toggles its own clk every half period; an odd or
    too short period is refused."""
    from accelsim.cosim.runner import register_inputs

    from accelsim.errors import AccelsimError

    text = register_inputs(COUNTER, "counter", clock_period_ns=10)
    wrapper = text[text.rindex("module counter("):]
    assert wrapper.startswith("module counter(rst, en, count);") and "input clk;" not in wrapper
    assert "reg clk = 0;" in wrapper and "always #5 clk = ~clk;" in wrapper
    assert "counter__core core(.clk(clk), .rst(rst_q), .en(en_q), .count(count));" in wrapper
    for bad in (7, 0):
        with pytest.raises(AccelsimError, match="clock_period_ns must be an even number"):
            register_inputs(COUNTER, "counter", clock_period_ns=bad)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_self_clocked_top_runs_without_a_bench_clock(tmp_path, sim):
    """The co-simulation tops make their own clock (no Python or VPI call per cycle): the edges come every
    10 ns with no Clock started by the bench, on Icarus and on Verilator (--timing, coroutines)."""
    from accelsim.cosim.runner import register_inputs, run_bench

    src = tmp_path / "counter.v"
    src.write_text(register_inputs(COUNTER, "counter", clock_period_ns=10))
    tests, failed = run_bench(sim=sim, verilog_sources=[src], toplevel="counter",
                              test_module="tests.rtl.bench_runner", build_dir=tmp_path / "build",
                              python_path=[ROOT], testcase="self_clocked_top_counts", timing=True,
                              public_internals=False)
    assert (tests, failed) == (1, 0)


def test_memory_files_hold_only_the_words_in_use(tmp_path):
    """write_init writes the given words only (the memory is zeroed before the load) and returns their count,
    which plusargs passes as the load's range; the dump's range likewise; an empty or too long image is
    refused in one line."""
    import numpy as np
    from accelsim.cosim.sim_memory import plusargs, read_dump, write_init

    from accelsim.errors import AccelsimError

    n = write_init(tmp_path / "d.hex", np.array([1, 0xab, 0], np.uint8), width=8, depth=1 << 16)
    assert n == 3 and (tmp_path / "d.hex").read_text() == "01\nab\n00\n"
    assert read_dump(tmp_path / "d.hex").tolist() == [1, 0xab, 0]
    rows = np.array([[0x11, 0x22, 0x33, 0x44]], np.uint32)  # a 128-bit word, least significant limb first
    assert write_init(tmp_path / "c.hex", rows, width=128, depth=4) == 1
    assert (tmp_path / "c.hex").read_text() == "00000044000000330000002200000011\n"
    args = plusargs("dram", init=tmp_path / "d.hex", init_words=n, dump=tmp_path / "o.hex", dump_words=7)
    assert args == [f"+dram_init={tmp_path / 'd.hex'}", "+dram_init_words=3",
                    f"+dram_dump={tmp_path / 'o.hex'}", "+dram_dump_words=7"]
    assert plusargs("cmd", init=tmp_path / "c.hex") == [f"+cmd_init={tmp_path / 'c.hex'}"]
    for words in (np.zeros(0, np.uint8), np.zeros(5, np.uint8)):
        with pytest.raises(AccelsimError, match="memory contents must be 1 to 4 words"):
            write_init(tmp_path / "x.hex", words, width=8, depth=4)
