"""Tests of the Python package against the real hetq command (HETQ_CLI, or the repository's launcher):
a small quantized digits model is trained once, then converted outputs, costs and hardware are checked."""
import json
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import hetq  # noqa: E402

CONFIG = {
    "name": "py-digits",
    "seed": 7,
    "data": {"name": "digits", "validation_fraction": 0.1, "test_fraction": 0.2},
    "model": {"layers": [
        {"type": "dense", "units": 8, "activation": "relu", "name": "fc1"},
        {"type": "dense", "units": 10, "name": "output"}]},
    "quantization": {
        "input": "ap_ufixed<5,1,RND_CONV,SAT>",
        "default": {"kernel": "quantized_bits(4,0,alpha=1)", "bias": "quantized_bits(6,2,alpha=1)",
                    "activation": "quantized_relu(4,2)"}},
    "optimizer": {"type": "adam", "learning_rate": 0.01},
    "epochs": 3,
    "batch_size": 64,
}


class HetQPackageTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="hetq-py-"))
        cls.config = cls.tmp / "train.json"
        cls.config.write_text(json.dumps(CONFIG))
        cls.model = cls.tmp / "model"
        cls.summary = hetq.train(cls.config, out=cls.model)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_train_returns_the_summary_and_writes_the_model(self):
        self.assertEqual(3, self.summary["epochs"])
        self.assertGreater(self.summary["test_accuracy"], 0.3)
        self.assertTrue((self.model / "model.json").is_file())

    def test_predict_returns_the_emulated_logits_as_an_array(self):
        rng = np.random.default_rng(1)
        x = rng.random((20, 64), dtype=np.float32)
        y = hetq.predict(self.model, x)
        self.assertEqual((20, 10), y.shape)
        self.assertEqual(np.float64, y.dtype)
        codes = hetq.predict(self.model, x, raw=True)
        self.assertTrue(np.issubdtype(codes.dtype, np.integer))
        # the real values are the codes times one power of two
        nz = codes != 0
        self.assertTrue(nz.any())
        step = y[nz] / codes[nz]
        self.assertTrue(np.all(step == step[0]))
        self.assertEqual(0.0, np.log2(step[0]) % 1)
        # predicting again gives the same bits; the trace's last node is the prediction
        np.testing.assert_array_equal(y, hetq.predict(self.model, x))
        t = hetq.trace(self.model, x, samples=4)
        last = list(t.values())[-1]
        np.testing.assert_array_equal(y[:4], last.reshape(4, 10))

    def test_evaluate_finds_no_mismatches(self):
        r = hetq.evaluate(self.model, self.config)
        self.assertEqual(0, r["mismatches"])
        self.assertAlmostEqual(self.summary["test_accuracy"], r["accuracy_fake_quant"], places=6)

    def test_estimate_returns_the_cost_per_layer_and_in_total(self):
        r = hetq.estimate(self.model)
        self.assertEqual(["input", "fc1", "output"], [l["name"] for l in r["layers"]][:3])
        self.assertGreater(r["total"]["ebops"], 0)

    def test_hw_writes_verilog_and_simulates_when_a_simulator_is_there(self):
        design = self.tmp / "hw"
        r = hetq.hw(self.model, design)
        self.assertTrue((design / (r["top"] + ".v")).is_file())
        if shutil.which("iverilog") is None:
            self.skipTest("iverilog not installed")
        s = hetq.hw_sim(design, self.config, simulator="icarus", random=20)
        self.assertEqual(0, s["mismatches"])
        self.assertGreater(s["vectors"], 20)

    def test_a_bad_input_raises_with_the_exit_code_and_the_one_line_message(self):
        with self.assertRaises(hetq.HetQError) as e:
            hetq.predict(self.tmp / "no-such-model", np.zeros((1, 64), dtype=np.float32))
        self.assertEqual(2, e.exception.code)
        self.assertIn("no-such-model", str(e.exception))

    def test_convert_imports_a_keras_file(self):
        shared = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "models" / "keras"
        if not (shared / "qkeras_3layer.json").is_file():
            self.skipTest("the shared reference models (../shared/data/models/keras) are absent")
        out = hetq.convert(shared / "qkeras_3layer.json", self.tmp / "tagger", weights=shared / "qkeras_3layer_weights.h5")
        y = hetq.predict(out, np.zeros((2, 16), dtype=np.float32))
        self.assertEqual((2, 5), y.shape)


if __name__ == "__main__":
    unittest.main()
