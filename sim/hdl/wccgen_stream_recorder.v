// Stream recorder of the wccgen testbench: writes every transfer of a stream
// to a file and checks the stream rules, with seeded random backpressure.
//
// One line per transfer: the payload in hex (full width), a space, the cycle
// in hex (8 digits), so every line has the same length. A breach of the rules
// is a line in ERRORS: the cycle, then what was wrong. As a monitor
// (MONITOR = 1) it watches an internal stream whose `valid` alone marks a
// transfer, and drives no ready.
module wccgen_stream_recorder #(
    parameter integer WIDTH = 8,
    parameter FILE = "recorder.hex",
    parameter ERRORS = "recorder.err",
    parameter MONITOR = 0
) (
    input wire clk,
    input wire [31:0] cycle,
    // While low, the backpressure generator holds `seed`.
    input wire running,
    input wire [31:0] seed,
    // `ready` is low in a cycle when the generator's top 16 bits fall below `backpressure`.
    input wire [16:0] backpressure,
    input wire valid,
    input wire [WIDTH-1:0] payload,
    output reg ready,
    output reg [31:0] count,
    output reg [31:0] last,
    output reg [31:0] errors
);
    integer fd, err;
    reg [31:0] state;
    reg waiting;
    reg [WIDTH-1:0] held;

    initial begin
        ready = 1'b1;
        count = 32'd0;
        last = 32'd0;
        errors = 32'd0;
        waiting = 1'b0;
        held = {WIDTH{1'b0}};
        state = 32'h7f4a7c15;
        fd = $fopen(FILE, "w");
        err = $fopen(ERRORS, "w");
    end

    always @(posedge clk) begin
        if (valid !== 1'b0 && valid !== 1'b1) begin
            $fwrite(err, "%0d valid is %b\n", cycle, valid);
            errors <= errors + 32'd1;
        end else begin
            if (!MONITOR && waiting && (valid !== 1'b1 || payload !== held)) begin
                $fwrite(err, "%0d valid or payload changed before the transfer\n", cycle);
                errors <= errors + 32'd1;
            end
            if (valid && (MONITOR || ready)) begin
                if (^payload === 1'bx) begin
                    $fwrite(err, "%0d payload is %b\n", cycle, payload);
                    errors <= errors + 32'd1;
                end else begin
                    $fwrite(fd, "%h %h\n", payload, cycle);
                end
                count <= count + 32'd1;
                last <= cycle;
            end
        end
        waiting <= !MONITOR && valid === 1'b1 && !ready;
        held <= payload;
        // xorshift32: one draw per cycle decides the next cycle's ready
        if (!running) state = (seed == 32'd0) ? 32'h7f4a7c15 : seed;
        state = state ^ (state << 13);
        state = state ^ (state >> 17);
        state = state ^ (state << 5);
        ready <= MONITOR || {1'b0, state[31:16]} >= backpressure;
    end
endmodule
