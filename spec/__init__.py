"""What every layer and block is: validated parameters, fixed-point rules and the facts derived from them.

The lowest layer of wccgen: the integer model (golden/), the hardware (hw/),
the simulation (sim/) and the generator (gen/) all read these objects, and
nothing here imports any of them. Imports flow one way:
spec -> golden -> hw -> sim -> gen -> cli.
"""
