// accelsim_sim_memory: the storage of the simulation harness's memories (accelsim.cosim.sim_memory).
//
// A DEPTH x WIDTH memory with RD_PORTS synchronous read ports (rd_data in cycle t+1 is the word addressed in
// cycle t, read before that edge's writes) and WR_PORTS write ports (written at the edge closing the cycle
// their wr_en is high; a later port wins when two address the same word). Simulation only: its contents
// come from and go to files named at run time by plusargs, through the simulator's own $readmemh and
// $writememh (IEEE 1364), so a bench never moves data through ports one beat at a time:
//   +<NAME>_init=<file>   loaded at time 0 after every word is zeroed (without it the memory starts zeroed)
//   +<NAME>_init_words=N  the file holds words 0 .. N-1 only (default: all DEPTH)
//   +<NAME>_dump=<file>   written when the simulation ends (a final block, IEEE 1800)
//   +<NAME>_dump_words=N  only words 0 .. N-1 are written (default: all DEPTH)
// Addresses are ABITS wide; DEPTH must be 2**ABITS so that every address is a word.
module accelsim_sim_memory #(
    parameter WIDTH = 8,
    parameter DEPTH = 2,
    parameter ABITS = 1,
    parameter RD_PORTS = 1,
    parameter WR_PORTS = 1,
    parameter NAME = "mem"
) (
    input clk,
    input [RD_PORTS*ABITS-1:0] rd_addr,
    output reg [RD_PORTS*WIDTH-1:0] rd_data,
    input [WR_PORTS-1:0] wr_en,
    input [WR_PORTS*ABITS-1:0] wr_addr,
    input [WR_PORTS*WIDTH-1:0] wr_data
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [8*4096-1:0] init_file;
    reg [8*4096-1:0] dump_file;
    integer z;  // the zeroing loop's index
    integer p;  // the port loops' index
    integer words;  // the words a file holds

    initial begin
        for (z = 0; z < DEPTH; z = z + 1) mem[z] = {WIDTH{1'b0}};
        rd_data = {RD_PORTS*WIDTH{1'b0}};
        if ($value$plusargs({NAME, "_init=%s"}, init_file)) begin
            if (!$value$plusargs({NAME, "_init_words=%d"}, words)) words = DEPTH;
            $readmemh(init_file, mem, 0, words - 1);
        end
    end

    final begin
        if ($value$plusargs({NAME, "_dump=%s"}, dump_file)) begin
            if (!$value$plusargs({NAME, "_dump_words=%d"}, words)) words = DEPTH;
            $writememh(dump_file, mem, 0, words - 1);
        end
    end

    always @(posedge clk) begin
        for (p = 0; p < RD_PORTS; p = p + 1)
            rd_data[p*WIDTH +: WIDTH] <= mem[rd_addr[p*ABITS +: ABITS]];
        for (p = 0; p < WR_PORTS; p = p + 1)
            if (wr_en[p]) mem[wr_addr[p*ABITS +: ABITS]] <= wr_data[p*WIDTH +: WIDTH];
    end
endmodule
