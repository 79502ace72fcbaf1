"""Is ONNX Runtime a faster encoder here? Speed and agreement on real dev windows.

    pip install '.[onnx]' && python benchmarks/onnx_probe.py [--model models/default]

Exports the encoder (all hidden states, as the layer mix needs them) to ONNX,
optionally int8-quantizes it per channel, and compares with torch on the
windows the predictor would build for the dev documents: seconds for all
batches, cosine of the mixed token states, and agreement of the tagger's
argmax. Agreement is a proxy; F1 needs the backend inside the predictor.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from predict_speed import ROOT, bare_batches  # noqa: E402

from liqa.data import load_documents  # noqa: E402
from liqa.inference import Predictor  # noqa: E402
from liqa.model import LiqaModel  # noqa: E402


class AllStates(torch.nn.Module):
    def __init__(self, encoder: torch.nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        return torch.stack(out.hidden_states, 0)  # (L+1, B, T, H)


def main() -> None:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--docs", nargs="+", default=[str(ROOT / "annotations" / "dev")])
    args = parser.parse_args()
    model, tok = LiqaModel.from_pretrained(args.model)
    docs = load_documents(args.docs)
    batches = bare_batches(Predictor(model, tok), docs)
    wrapped = AllStates(model.encoder).eval()
    tmp = Path(tempfile.mkdtemp())
    ids, mask = batches[0]
    torch.onnx.export(wrapped, (ids, mask), tmp / "enc.onnx", input_names=["ids", "mask"], output_names=["h"],
                      dynamic_axes={"ids": {0: "b", 1: "t"}, "mask": {0: "b", 1: "t"}}, opset_version=17,
                      dynamo=False)
    quantize_dynamic(tmp / "enc.onnx", tmp / "enc_int8.onnx", weight_type=QuantType.QInt8, per_channel=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = torch.get_num_threads()

    def mixed(states: torch.Tensor) -> torch.Tensor:
        return model.norm((torch.softmax(model.mix, 0).view(-1, 1, 1, 1) * states).sum(0))

    with torch.no_grad():
        t = time.perf_counter()
        ref = [wrapped(i, m) for i, m in batches]
        base = time.perf_counter() - t
        print(f"torch fp32: {base:.2f} s for {len(batches)} batches")
        for name in ("enc.onnx", "enc_int8.onnx"):
            sess = ort.InferenceSession(str(tmp / name), so, providers=["CPUExecutionProvider"])
            t = time.perf_counter()
            outs = [torch.from_numpy(sess.run(None, {"ids": i.numpy(), "mask": m.numpy()})[0]) for i, m in batches]
            secs = time.perf_counter() - t
            cos, agree, n = 0.0, 0.0, 0
            for (i, m), r, o in zip(batches, ref, outs):
                keep = m.bool()
                a, b = mixed(r)[keep], mixed(o)[keep]
                cos += torch.nn.functional.cosine_similarity(a, b, dim=-1).sum().item()
                agree += (model.tagger(a).argmax(-1) == model.tagger(b).argmax(-1)).sum().item()
                n += int(keep.sum())
            print(f"onnxruntime {name}: {secs:.2f} s ({base / secs:.2f}x), mixed-state cosine {cos / n:.4f}, "
                  f"tag agreement {agree / n:.4f} over {n} tokens")


if __name__ == "__main__":
    main()
