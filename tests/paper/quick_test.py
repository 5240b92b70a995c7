#!/usr/bin/python3
"""Runs one of examples/paper/*.py in --quick mode and checks what it wrote.

    quick_test.py NAME WBARY_CLI PYTHON_MODULE_DIR OUT
The quick runs train for seconds, so their accuracy is not checked here (BENCHMARKS.md has the full runs); what is
checked is that every case ran end to end, wrote its picture and numbers, and that the scoring is right where a
closed form is known.
"""
import json
import os
import subprocess
import sys

name, cli, python_dir, out = sys.argv[1:5]
script = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "paper", name + ".py")
subprocess.run([sys.executable, script, "--quick", "--wbary", cli, "--python-dir", python_dir, "--out", out], check=True)
r = json.load(open(os.path.join(out, "results.json")))
if name == "shapes":
    cases = r["cases"]
    assert sorted(cases) == ["boxes_3d", "fashion", "ring_square"], cases
    for case, v in cases.items():
        assert v["sampling_floor"] > 0 and v["uvp_generator"] > 0 and len(v["uvp_push_each"]) == 2, (case, v)
        assert os.path.getsize(os.path.join(out, case + ".png")) > 0, case
elif name == "gan_mode":
    # The scorer on the data itself: all 10 modes, and within 3 sigma of a
    # 2-D Gaussian's mean lies 1 - exp(-9/2) = 98.9 % of it (2 000 draws: +-0.25 %).
    assert r["data"]["modes_hit"] == 10 and r["data"]["within_3_sigma"] > 0.98, r["data"]
    assert abs(sum(r["generator"]["mass_per_mode"]) - 1) < 1e-9, r["generator"]
    assert os.path.getsize(os.path.join(out, "gan_mode.png")) > 0
else:
    sys.exit(f"quick_test: unknown example '{name}'")
print(f"{name}: 1 passed, 0 failed")
