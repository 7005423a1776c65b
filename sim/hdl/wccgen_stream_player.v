// Stream player of the wccgen testbench: sends the beats of a hex file, one
// line per beat, with seeded random idle between beats.
//
// The testbench raises `play` (a running total of beats to send); the player
// sends until `sent` reaches it. Once `valid` rises it holds, with the payload
// unchanged, until the beat is taken. Every accepted beat's cycle is written to
// LOG, one decimal line each. A file shorter than asked sets `underrun`.
module wccgen_stream_player #(
    parameter integer WIDTH = 8,
    parameter FILE = "player.hex",
    parameter LOG = "player.log"
) (
    input wire clk,
    input wire [31:0] cycle,
    // While low, the idle generator holds `seed`.
    input wire running,
    input wire [31:0] seed,
    // A beat waits a cycle when the generator's top 16 bits fall below `idle` (idle / 65536 of the cycles).
    input wire [16:0] idle,
    input wire [31:0] play,
    output reg valid,
    output reg [WIDTH-1:0] payload,
    input wire ready,
    output reg [31:0] sent,
    output reg underrun
);
    integer fd, log, got;
    reg [31:0] state;
    reg [31:0] loaded;
    reg [WIDTH-1:0] next;

    initial begin
        valid = 1'b0;
        payload = {WIDTH{1'b0}};
        sent = 32'd0;
        loaded = 32'd0;
        underrun = 1'b0;
        state = 32'h9e3779b9;
        fd = $fopen(FILE, "r");
        log = $fopen(LOG, "w");
    end

    always @(posedge clk) begin
        // xorshift32: one draw per cycle, whatever the stream does (a zero seed would stay zero)
        if (!running) state = (seed == 32'd0) ? 32'h9e3779b9 : seed;
        state = state ^ (state << 13);
        state = state ^ (state >> 17);
        state = state ^ (state << 5);
        if (valid && ready) begin
            sent <= sent + 32'd1;
            $fwrite(log, "%0d\n", cycle);
        end
        if (!valid || ready) begin
            if (running && loaded != play && {1'b0, state[31:16]} >= idle) begin
                got = $fscanf(fd, "%h\n", next);
                if (got != 1) begin
                    underrun <= 1'b1;
                    valid <= 1'b0;
                end else begin
                    payload <= next;
                    valid <= 1'b1;
                    loaded = loaded + 32'd1;
                end
            end else begin
                valid <= 1'b0;
            end
        end
    end
endmodule
