// Behavioural model of the Lattice ECP5 DP16KD block RAM, for simulation (Icarus, Verilator).
// Covers what wccgen instantiates: equal port widths of 36, 18, 9, 4, 2 or 1 bits,
// port A writing, port B reading, REGMODE NOREG or OUTREG, no chip selects,
// no reset of the outputs. Word address bits sit above the byte-enable bits as
// in the device (x36: ADx[13:5], x18: [13:4], x9: [13:3], x4: [13:2], x2: [13:1],
// x1: [13:0]); a write at x36 / x18 stores the 9-bit bytes whose enables
// (ADA[3:0] / ADA[1:0]) are high. A read issued with CEB returns the word in
// the internal latch on the next clock edge; with REGMODE_B = "OUTREG" the output
// register takes it one edge later, when OCEB is high.
// The 36-bit mode is pseudo-dual-port: a write takes {DIB, DIA} on port A's clock
// enable (WEA high), a read gives {DOB, DOA}; the low half leaves through port A's
// output register (REGMODE_A, OCEA), the high half through port B's.
module DP16KD (
  input DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
  input ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
  input CEA, OCEA, CLKA, WEA, RSTA,
  input CSA2, CSA1, CSA0,
  output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
  input DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
  input ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
  input CEB, OCEB, CLKB, WEB, RSTB,
  input CSB2, CSB1, CSB0,
  output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
  parameter DATA_WIDTH_A = 18;
  parameter DATA_WIDTH_B = 18;
  parameter REGMODE_A = "NOREG";
  parameter REGMODE_B = "NOREG";
  parameter RESETMODE = "SYNC";
  parameter ASYNC_RESET_RELEASE = "SYNC";
  parameter CSDECODE_A = "0b000";
  parameter CSDECODE_B = "0b000";
  parameter WRITEMODE_A = "NORMAL";
  parameter WRITEMODE_B = "NORMAL";
  parameter GSR = "ENABLED";

  wire [35:0] di = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
                    DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
  wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
  wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};

  // A word per address (both ports have the same width): a write and a read are one array access each.
  localparam integer WIDTH = DATA_WIDTH_A;
  localparam integer ADDRESS_LSB = (WIDTH == 36) ? 5 : (WIDTH == 18) ? 4 : (WIDTH == 9) ? 3 :
                                   (WIDTH == 4) ? 2 : (WIDTH == 2) ? 1 : 0;
  localparam integer DEPTH = 1 << (14 - ADDRESS_LSB);

  reg [WIDTH-1:0] words [0:DEPTH-1];
  reg [35:0] latch_b = 36'd0;
  reg [17:0] out_a = 18'd0;
  reg [17:0] out_b = 18'd0;

  initial begin
    if (DATA_WIDTH_A != DATA_WIDTH_B) begin
      $display("DP16KD model: port widths %0d and %0d differ; only equal widths are modelled",
               DATA_WIDTH_A, DATA_WIDTH_B);
      $finish;
    end
  end

  // The bits a write stores: its bytes' enables at x36 and x18, all of the word below.
  wire [35:0] write_mask = (WIDTH == 36) ? {{9{ada[3]}}, {9{ada[2]}}, {9{ada[1]}}, {9{ada[0]}}} :
                           (WIDTH == 18) ? {18'd0, {9{ada[1]}}, {9{ada[0]}}} : {36{1'b1}};
  wire [13:0] word_a = ada >> ADDRESS_LSB;
  wire [13:0] word_b = adb >> ADDRESS_LSB;

  always @(posedge CLKA) begin
    if (CEA && WEA)
      words[word_a] <= (words[word_a] & ~write_mask[WIDTH-1:0]) | (di[WIDTH-1:0] & write_mask[WIDTH-1:0]);
  end

  always @(posedge CLKB) begin
    if (CEB)
      latch_b <= {{(36 - WIDTH){1'b0}}, words[word_b]};
    if (OCEB)
      out_b <= (WIDTH == 36) ? latch_b[35:18] : latch_b[17:0];
  end

  always @(posedge CLKA) begin
    if (OCEA)
      out_a <= latch_b[17:0];
  end

  wire [17:0] dob = (REGMODE_B == "OUTREG") ? out_b : ((WIDTH == 36) ? latch_b[35:18] : latch_b[17:0]);
  wire [17:0] doa = (WIDTH != 36) ? 18'd0 : (REGMODE_A == "OUTREG") ? out_a : latch_b[17:0];
  assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;
  assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
endmodule
