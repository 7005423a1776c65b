// Behavioural model of the Lattice ECP5 MULT18X18D multiplier, for simulation (Icarus, Verilator).
// Covers what wccgen instantiates: A x B (no C, no shift chains), SIGNEDA/SIGNEDB,
// each of the input, pipeline and output registers either absent ("NONE") or on
// CLK0 with CE0 and a synchronous RST0.
module MULT18X18D (
  input A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0,
  input B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0,
  input C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0,
  input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
  input CLK0, CLK1, CLK2, CLK3,
  input CE0, CE1, CE2, CE3,
  input RST0, RST1, RST2, RST3,
  output P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
  output P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0
);
  parameter REG_INPUTA_CLK = "NONE";
  parameter REG_INPUTA_CE = "CE0";
  parameter REG_INPUTA_RST = "RST0";
  parameter REG_INPUTB_CLK = "NONE";
  parameter REG_INPUTB_CE = "CE0";
  parameter REG_INPUTB_RST = "RST0";
  parameter REG_INPUTC_CLK = "NONE";
  parameter REG_PIPELINE_CLK = "NONE";
  parameter REG_PIPELINE_CE = "CE0";
  parameter REG_PIPELINE_RST = "RST0";
  parameter REG_OUTPUT_CLK = "NONE";
  parameter REG_OUTPUT_CE = "CE0";
  parameter REG_OUTPUT_RST = "RST0";
  parameter CLK0_DIV = "ENABLED";
  parameter CLK1_DIV = "ENABLED";
  parameter CLK2_DIV = "ENABLED";
  parameter CLK3_DIV = "ENABLED";
  parameter HIGHSPEED_CLK = "NONE";
  parameter GSR = "ENABLED";
  parameter CAS_MATCH_REG = "FALSE";
  parameter SOURCEB_MODE = "B_SHIFT";
  parameter MULT_BYPASS = "DISABLED";
  parameter RESETMODE = "SYNC";

  wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
  wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
  wire signs_a = SIGNEDA, signs_b = SIGNEDB;

  reg [17:0] a_reg = 18'd0, b_reg = 18'd0;
  reg sign_a_reg = 1'b0, sign_b_reg = 1'b0;
  always @(posedge CLK0) if (CE0) begin
    a_reg <= RST0 ? 18'd0 : a;
    b_reg <= RST0 ? 18'd0 : b;
    sign_a_reg <= RST0 ? 1'b0 : signs_a;
    sign_b_reg <= RST0 ? 1'b0 : signs_b;
  end
  wire [17:0] a_in = (REG_INPUTA_CLK == "NONE") ? a : a_reg;
  wire [17:0] b_in = (REG_INPUTB_CLK == "NONE") ? b : b_reg;
  wire sa = (REG_INPUTA_CLK == "NONE") ? signs_a : sign_a_reg;
  wire sb = (REG_INPUTB_CLK == "NONE") ? signs_b : sign_b_reg;
  wire signed [35:0] a_ext = {{18{sa & a_in[17]}}, a_in};
  wire signed [35:0] b_ext = {{18{sb & b_in[17]}}, b_in};
  wire [35:0] product = a_ext * b_ext;

  reg [35:0] pipeline_reg = 36'd0, output_reg = 36'd0;
  always @(posedge CLK0) if (CE0) pipeline_reg <= RST0 ? 36'd0 : product;
  wire [35:0] after_pipeline = (REG_PIPELINE_CLK == "NONE") ? product : pipeline_reg;
  always @(posedge CLK0) if (CE0) output_reg <= RST0 ? 36'd0 : after_pipeline;
  wire [35:0] p = (REG_OUTPUT_CLK == "NONE") ? after_pipeline : output_reg;
  assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
          P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
endmodule
