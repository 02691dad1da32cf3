#!/usr/bin/env python3
"""LUT levels of a Yosys-mapped Xilinx netlist (hetq hw synth's DIR/synth/xilinx_netlist.v): the most LUTs on any
path from a register or input port to a register or output port. CARRY4, MUXF7/8 and INV count 0 levels (a CARRY4
output is taken to depend on all its inputs). A stopgap measurement script, not part of the toolkit.
usage: lut_levels.py NETLIST.v [TOP]"""
import json, os, re, subprocess, sys, tempfile

def main():
    netlist = sys.argv[1]
    top = sys.argv[2] if len(sys.argv) > 2 else re.search(r"^module\s+(\w+)", open(netlist).read(), re.M).group(1)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "n.json")
        subprocess.run(["yosys", "-q", "-p", f"read_verilog -lib +/xilinx/cells_sim.v; read_verilog {netlist}; hierarchy -top {top}; proc; write_json {out}"],
                       check=True)
        mod = json.load(open(out))["modules"][top]
    driver = {}
    cells = mod["cells"]
    for name, c in cells.items():
        for port, bits in c["connections"].items():
            if c["port_directions"].get(port) == "output":
                for b in bits:
                    if isinstance(b, int): driver[b] = name
    seq = lambda t: t.startswith("FD") or t == "BUFG"
    weight = lambda t: 1 if re.fullmatch(r"LUT[1-6]", t) else 0
    memo = {}
    sys.setrecursionlimit(1000000)
    def arrival(cell):
        if cell in memo: return memo[cell]
        c = cells[cell]
        best = 0
        for port, bits in c["connections"].items():
            if c["port_directions"].get(port) != "input": continue
            for b in bits:
                d = driver.get(b) if isinstance(b, int) else None
                if d is not None and not seq(cells[d]["type"]): best = max(best, arrival(d))
        memo[cell] = best + weight(c["type"])
        return memo[cell]
    ends, names = [], []
    for name, c in cells.items():
        if seq(c["type"]) and c["type"] != "BUFG":
            for port, bits in c["connections"].items():
                if c["port_directions"].get(port) == "input" and port != "C":
                    for b in bits:
                        d = driver.get(b) if isinstance(b, int) else None
                        if d is not None and not seq(cells[d]["type"]):
                            ends.append(arrival(d))
                            names.append((arrival(d), name))
    for pname, p in mod["ports"].items():
        if p["direction"] == "output":
            for b in p["bits"]:
                d = driver.get(b) if isinstance(b, int) else None
                if d is not None and not seq(cells[d]["type"]): ends.append(arrival(d))
    hist = {}
    for e in ends: hist[e] = hist.get(e, 0) + 1
    top_level = max(ends) if ends else 0
    # the registers (by the bit they store) that end the deepest paths, a few of them
    deepest = sorted({n for a, n in names if a == top_level})[:8]
    qnames = {}
    for pname, net in mod["netnames"].items():
        for b in net["bits"]:
            if isinstance(b, int): qnames.setdefault(b, pname)
    where = [qnames.get(cells[n]["connections"].get("Q", [None])[0], n) for n in deepest]
    print(json.dumps({"max_lut_levels": top_level, "endpoints": len(ends), "histogram": dict(sorted(hist.items())), "deepest_registers": where}))

main()
