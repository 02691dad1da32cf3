#!/usr/bin/env python3
"""Golden outputs for a real Keras 3 archive (not one HetQ's scripts wrote): FlowNet-ANN's `out/final_model.keras`
(Keras 3.9.2, MIT licence, github.com/2mdtln/FlowNet-ANN at 1ea4b5b), a 2-128-64-32-2 regression MLP with Dropout and
LeakyReLU(negative_slope=0.2). Its author's `out/final_prediction.xlsx` holds Keras's own predictions on the whole data
set (x, y, U, V, U_pred, V_pred; inputs and targets MinMax-scaled for the network, predictions scaled back). This
script reads that sheet with the standard library only, undoes the scaling (min/max of the sheet's own columns, as
train.py fit them on the same rows) and writes every 25th row as {"input": [[x, y] scaled], "output": [[u, v] scaled]}:
Keras's float32 outputs, in the network's own units.

  /usr/bin/python3 scripts/keras3-real-golden.py final_prediction.xlsx > tests/HetQ.Tests/Golden/keras3/real/flownet.json
"""
import json
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

def rows(path):
    with zipfile.ZipFile(path) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
                shared.append("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])))
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
        for row in sheet.find("m:sheetData", NS).findall("m:row", NS):
            cells = {}
            for c in row.findall("m:c", NS):
                col = re.match(r"[A-Z]+", c.get("r")).group(0)
                v = c.find("m:v", NS)
                t = c.find("m:is/m:t", NS)
                if c.get("t") == "s":
                    cells[col] = shared[int(v.text)]
                elif c.get("t") == "inlineStr":
                    cells[col] = t.text
                elif v is not None:
                    cells[col] = float(v.text)
            yield cells

def main():
    table = list(rows(sys.argv[1]))
    header = [table[0][k] for k in sorted(table[0])]
    assert header == ["x", "y", "U", "V", "U_pred", "V_pred"], header
    data = [[r[k] for k in sorted(r)] for r in table[1:]]
    lo = [min(d[i] for d in data) for i in range(4)]
    hi = [max(d[i] for d in data) for i in range(4)]
    scale = lambda v, i: (v - lo[i]) / (hi[i] - lo[i])
    picked = data[::25]
    golden = {
        "source": "github.com/2mdtln/FlowNet-ANN out/final_model.keras and out/final_prediction.xlsx (MIT)",
        "rows": len(data),
        "input": [[scale(d[0], 0), scale(d[1], 1)] for d in picked],
        "output": [[scale(d[4], 2), scale(d[5], 3)] for d in picked],
    }
    json.dump(golden, sys.stdout)
    sys.stdout.write("\n")

main()
