"""verilog_difference: the first changed line of generated Verilog, named by module and memory word."""

from wccgen.hw.verilog import verilog_difference

TEXT = """// top: generated
// parameters: {"a": 1}
module top(clk);
  reg [7:0] memory [1:0];
  initial begin
    memory[0] = 8'h12;
    memory[1] = 8'h34;
  end
endmodule
module other(clk);
endmodule
"""


def test_identical_texts_have_no_difference():
    assert verilog_difference(TEXT, TEXT) is None


def test_a_memory_word_is_named_with_its_module_before_a_changed_header():
    found = TEXT.replace('{"a": 1}', '{"a": 2}').replace("8'h34", "8'h35")
    difference = verilog_difference(TEXT, found)
    assert (difference["line"], difference["module"], difference["memory"], difference["word"]) == (
        7, "top", "memory", 1)
    assert difference["message"] == ("line 7 (module top): memory memory, word 1: the bundle gives 8'h34, "
                                     "the Verilog holds 8'h35")


def test_a_header_alone_and_a_shorter_file_are_reported():
    assert verilog_difference(TEXT, TEXT.replace('{"a": 1}', '{"a": 2}'))["line"] == 2
    difference = verilog_difference(TEXT, TEXT.replace("module other(clk);\nendmodule\n", ""))
    assert difference["line"] == 10 and difference["found"] == "(end of file)"
