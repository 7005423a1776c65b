"""Verilog generation, synthesis reports and the command line helpers."""
