"""The training loop: accelerate on one CPU or many GPUs, dev evaluation each epoch,
early stopping, best and last checkpoints, and resume after a kill.

Layout of `output_dir`:
    best/          the best model so far (save_pretrained; what predict.py loads), with its
                   training config, dev metrics and the training log
    last/          the model after the last finished epoch, plus state/ (optimizer,
                   scheduler, RNG) and trainer_state.json, for --resume
    log.jsonl      one line of metrics per epoch
    report/        the evaluation report of best/ on the dev data (as evaluate.py writes it)
    config.yaml    the resolved configuration
"""
from __future__ import annotations

import json
import logging
from collections import Counter
import math
import shutil
import time
from functools import partial
from pathlib import Path

import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from liqa.calibration import calibrate
from liqa.config import Config
from liqa.data import Coverage, LengthGroupedBatches, check_data, collate, document_windows, load_documents
from liqa.inference import Predictor
from liqa.metrics import selection_score, summary
from liqa.model import LiqaConfig, LiqaModel, build_encoder
from liqa.report import evaluate_and_report

logger = logging.getLogger(__name__)


def train(cfg: Config, resume: bool = False, skip_invalid: bool = False) -> dict:
    """Train as `cfg` says; returns the best epoch's dev metrics.

    The data is validated first (`check_data`): a DataError stops training before anything
    is built, unless `skip_invalid` leaves the invalid documents out (listed in data.json).
    """
    t = cfg.training
    out = Path(t.output_dir)
    checked = {name: check_data(paths, f"data.{name}", skip_invalid)
               for name, paths in (("train", cfg.data.train), ("dev", cfg.data.dev))}
    accelerator = Accelerator(gradient_accumulation_steps=t.grad_accum, mixed_precision=t.mixed_precision)
    set_seed(t.seed)

    train_docs = load_documents(cfg.data.train, checked["train"].drop)
    dev_docs = load_documents(cfg.data.dev, checked["dev"].drop)
    model_cfg = LiqaConfig(**cfg.model.model_dump())
    encoder, tokenizer = build_encoder(model_cfg)
    model = LiqaModel(model_cfg, encoder)

    coverage = Coverage()
    windows = [w for i, d in enumerate(train_docs)
               for w in document_windows(d, i, tokenizer, model_cfg.max_length - 2, model_cfg.overlap, coverage,
                                         coreferent=cfg.data.coreferent_links)]
    if accelerator.is_main_process:
        logger.info(coverage.report("train"))
    loader = DataLoader(windows, batch_sampler=LengthGroupedBatches([len(w.input_ids) for w in windows], t.batch_size),
                        collate_fn=partial(collate, pad_id=tokenizer.pad_token_id))

    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    enc_ids = {id(p) for p in enc_params}
    head_params = [p for p in model.parameters() if p.requires_grad and id(p) not in enc_ids]
    optimizer = torch.optim.AdamW([{"params": enc_params, "lr": t.lr_encoder},
                                   {"params": head_params, "lr": t.lr_head}], weight_decay=t.weight_decay)
    steps_per_epoch = math.ceil(len(loader) / accelerator.num_processes / t.grad_accum)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(t.warmup * steps_per_epoch * t.epochs),
                                                steps_per_epoch * t.epochs)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

    state = {"epoch": 0, "best_score": -1.0, "best_epoch": 0, "bad_epochs": 0, "best_metrics": {}}
    if resume and (out / "last" / "trainer_state.json").exists():
        accelerator.load_state(str(out / "last" / "state"))
        state = json.loads((out / "last" / "trainer_state.json").read_text())
        logger.info("resuming after epoch %d", state["epoch"])
    elif accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(cfg.model_dump(), sort_keys=False, allow_unicode=True))
        (out / "log.jsonl").write_text("")
        # what this run learned from, for the model card (the corpus may grow later)
        data = {name: dict(Counter(d.lang for d in docs)) for name, docs in (("train", train_docs), ("dev", dev_docs))}
        data["skipped"] = [dict(s, data=name) for name, c in checked.items() for s in c.skipped]
        (out / "data.json").write_text(json.dumps(data, ensure_ascii=False))

    logger.info("***** Running training *****  %d documents, %d windows, %d epochs, batch %d x %d processes x %d accum",
                len(train_docs), len(windows), t.epochs, t.batch_size, accelerator.num_processes, t.grad_accum)
    for epoch in range(state["epoch"] + 1, t.epochs + 1):
        if state["bad_epochs"] >= t.patience:
            logger.info("early stop: no dev improvement for %d epochs", t.patience)
            break
        set_seed(t.seed + epoch)  # shuffling and dropout depend only on the epoch, so resume replays them
        model.train()
        started, losses = time.time(), []
        bar = tqdm(loader, desc=f"epoch {epoch}/{t.epochs}", disable=not accelerator.is_local_main_process)
        for batch in bar:
            with accelerator.accumulate(model):
                output = model(**batch)
                accelerator.backward(output.loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), t.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            losses.append(output.loss.item())
            bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.4f}")

        unwrapped = accelerator.unwrap_model(model)
        metrics = evaluate_docs(unwrapped, tokenizer, dev_docs, t.batch_size)
        score = selection_score(metrics)
        record = {"epoch": epoch, "train_loss": round(sum(losses) / max(len(losses), 1), 5),
                  "seconds": round(time.time() - started, 1), "dev_score": score, "dev": metrics}
        improved = score > state["best_score"]
        state.update(epoch=epoch, bad_epochs=0 if improved else state["bad_epochs"] + 1)
        if improved:
            state.update(best_score=score, best_epoch=epoch, best_metrics=metrics)
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            with (out / "log.jsonl").open("a") as f:
                f.write(json.dumps(record) + "\n")
            if improved:
                unwrapped.save_pretrained(out / "best")
                (out / "best" / "training_config.yaml").write_text((out / "config.yaml").read_text())
                shutil.copyfile(out / "data.json", out / "best" / "data.json")
                (out / "best" / "dev_metrics.json").write_text(json.dumps(record, indent=1))
            unwrapped.save_pretrained(out / "last")
            for d in ("best", "last"):  # each model carries its training curve
                shutil.copyfile(out / "log.jsonl", out / d / "log.jsonl")
        accelerator.save_state(str(out / "last" / "state"))
        if accelerator.is_main_process:
            (out / "last" / "trainer_state.json").write_text(json.dumps(state))
        logger.info("epoch %d: loss %.4f, dev score %.4f (spans F1 %.3f, relations F1 %.3f, met pairs F1 %.3f)%s",
                    epoch, record["train_loss"], score, metrics["spans"]["f1"], metrics["relations"]["f1"],
                    metrics["met_pairs"]["f1"], "  *best*" if improved else "")
    accelerator.end_training()
    if accelerator.is_main_process and (out / "best").exists() and t.calibrate:
        best, _ = LiqaModel.from_pretrained(out / "best")
        thresholds, record = calibrate(Predictor(best, tokenizer, batch_size=t.batch_size), dev_docs)
        best.config.link_thresholds = thresholds
        best.config.to_json_file(out / "best" / "config.json")
        (out / "best" / "calibration.json").write_text(json.dumps(record, indent=1))
        logger.info("link thresholds chosen on dev: %s (objective %.4f -> %.4f)",
                    thresholds, record["before"], record["after"])
    if accelerator.is_main_process and (out / "best").exists():
        # the same report evaluate.py writes, for the best checkpoint on the dev data
        evaluate_and_report(cfg.data.dev, out / "report", model=out / "best", batch_size=t.batch_size)
        logger.info("dev report: %s", out / "report" / "report.md")
    return state["best_metrics"]


def evaluate_docs(model: LiqaModel, tokenizer, docs: list, batch_size: int) -> dict:
    was_training = model.training
    predictor = Predictor(model, tokenizer, batch_size=batch_size, device=next(model.parameters()).device)
    preds = list(predictor.predict(docs))
    model.train(was_training)
    return summary(preds, docs)
