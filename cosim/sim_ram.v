// accelsim_sim_ram: the SoC's unified RAM in simulation (accelsim.cosim.soc.SimRam).
//
// DEPTH 32-bit words: rdata in cycle t+1 is the word at raddr in cycle t (read before that edge's write);
// the bytes of waddr with wmask set are written at the edge closing the cycle. The program image comes from
// the file of the plusarg +ram_init=<file> ($readmemh: 32-bit words, "@<word address>" lines allowed, words
// not in the file stay 0): loaded at time 0, and again (after zeroing) at every rising edge with reload
// high, so one simulator process runs many programs (the bench rewrites the file between them).
// Simulation only.
module accelsim_sim_ram #(
    parameter DEPTH = 2,
    parameter ABITS = 1
) (
    input clk,
    input reload,
    input [ABITS-1:0] raddr,
    output reg [31:0] rdata,
    input [ABITS-1:0] waddr,
    input [3:0] wmask,
    input [31:0] wdata
);
    reg [31:0] mem [0:DEPTH-1];
    reg [8*4096-1:0] init_file;
    integer z;
    reg have_file;

    initial begin
        for (z = 0; z < DEPTH; z = z + 1) mem[z] = 32'd0;
        rdata = 32'd0;
        have_file = $value$plusargs("ram_init=%s", init_file);
        if (have_file) $readmemh(init_file, mem);
    end

    always @(posedge clk) begin
        if (reload) begin
            for (z = 0; z < DEPTH; z = z + 1) mem[z] = 32'd0;
            if (have_file) $readmemh(init_file, mem);
        end else begin
            rdata <= mem[raddr];
            if (wmask[0]) mem[waddr][7:0] <= wdata[7:0];
            if (wmask[1]) mem[waddr][15:8] <= wdata[15:8];
            if (wmask[2]) mem[waddr][23:16] <= wdata[23:16];
            if (wmask[3]) mem[waddr][31:24] <= wdata[31:24];
        end
    end
endmodule
