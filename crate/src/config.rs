//! The model configuration, with the official field names (`HierarchicalReasoningModel_ACTV1Config`),
//! read from a parity folder's `config.json` or from the `arch` section of an official `all_config.yaml`.
//! Derived sizes follow HRM_SPEC.md §1 exactly.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Every way a config can be wrong; each names the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("config: missing field `{0}`")]
    Missing(String),
    #[error("config: unknown field `{0}`")]
    Unknown(String),
    #[error("config: field `{field}` {problem}")]
    Invalid { field: String, problem: String },
    #[error("config: not valid {format}: {message}")]
    Syntax { format: &'static str, message: String },
}

fn invalid(field: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), problem: problem.into() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PosEncoding {
    Rope,
    Learned,
    /// This project's extension (the official code has only `rope` and `learned`): RoPE over a square
    /// grid's row and column, half the rotary pairs each, so the geometry a model learns does not
    /// depend on the grid's width and carries from one maze size to another.
    Rope2d,
}

impl PosEncoding {
    /// Rotary encodings have no weights tied to the sequence length: a model can run on another one.
    pub fn is_rotary(self) -> bool {
        matches!(self, PosEncoding::Rope | PosEncoding::Rope2d)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossType {
    StablemaxCrossEntropy,
    SoftmaxCrossEntropy,
}

/// The official config. Field names serialize exactly as the official code spells them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub batch_size: usize,
    pub seq_len: usize,
    pub puzzle_emb_ndim: usize,
    pub num_puzzle_identifiers: usize,
    pub vocab_size: usize,
    #[serde(rename = "H_cycles")]
    pub h_cycles: usize,
    #[serde(rename = "L_cycles")]
    pub l_cycles: usize,
    #[serde(rename = "H_layers")]
    pub h_layers: usize,
    #[serde(rename = "L_layers")]
    pub l_layers: usize,
    pub hidden_size: usize,
    pub expansion: f64,
    pub num_heads: usize,
    pub pos_encodings: PosEncoding,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub halt_max_steps: usize,
    pub halt_exploration_prob: f64,
    /// The official default is "bfloat16"; this implementation computes in f32 either way and keeps the
    /// value only to write it back.
    pub forward_dtype: String,
    pub loss_type: LossType,
    /// This project's extension, 0 (global attention, the official model) unless set: a grid cell
    /// attends only to the cells at most this many rows and columns away, the way a convolution
    /// reads its neighbourhood, so what a maze model learns is a local rule that runs on any grid
    /// size; puzzle-embedding positions (the Q head's) still attend to every position. Written only
    /// when non-zero, so official configs round-trip unchanged.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attn_radius: usize,
}

fn is_zero(x: &usize) -> bool {
    *x == 0
}

/// Keys the official code passes or writes that carry no model information here.
const IGNORED: &[&str] = &["causal", "name"];

impl Config {
    /// Parse a JSON object such as a parity folder's `config.json`.
    pub fn from_json_str(text: &str) -> Result<Config, ConfigError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::Syntax { format: "JSON", message: e.to_string() })?;
        let map = value.as_object().ok_or_else(|| ConfigError::Syntax {
            format: "JSON",
            message: "the top level must be an object".into(),
        })?;
        Config::from_map(map, &Map::new())
    }

    /// Parse the `arch` section of an official `all_config.yaml`. That section does not hold the
    /// dataset-dependent values (`vocab_size`, `seq_len`, `num_puzzle_identifiers`, `batch_size`):
    /// pass them in `extra` (e.g. read off a checkpoint's tensor shapes); `extra` wins over the yaml.
    /// `batch_size` falls back to the yaml's top-level `global_batch_size`.
    pub fn from_all_config_yaml(text: &str, extra: &Map<String, Value>) -> Result<Config, ConfigError> {
        let doc: Value = serde_norway::from_str(text)
            .map_err(|e| ConfigError::Syntax { format: "YAML", message: e.to_string() })?;
        let arch = doc
            .get("arch")
            .and_then(Value::as_object)
            .ok_or_else(|| ConfigError::Missing("arch".into()))?;
        let mut arch = arch.clone();
        if let Some(loss) = arch.remove("loss") {
            if let Some(t) = loss.get("loss_type") {
                arch.insert("loss_type".into(), t.clone());
            }
        }
        let mut extra = extra.clone();
        if !extra.contains_key("batch_size") && !arch.contains_key("batch_size") {
            if let Some(gbs) = doc.get("global_batch_size") {
                extra.insert("batch_size".into(), gbs.clone());
            }
        }
        Config::from_map(&arch, &extra)
    }

    fn from_map(map: &Map<String, Value>, extra: &Map<String, Value>) -> Result<Config, ConfigError> {
        let mut map = map.clone();
        for (k, v) in extra {
            map.insert(k.clone(), v.clone());
        }
        for key in map.keys() {
            if !FIELDS.contains(&key.as_str()) && !IGNORED.contains(&key.as_str()) && key != "attn_radius" {
                return Err(ConfigError::Unknown(key.clone()));
            }
        }
        let get = |k: &str| map.get(k).filter(|v| !v.is_null());
        let int = |k: &str| -> Result<usize, ConfigError> {
            let v = get(k).ok_or_else(|| ConfigError::Missing(k.into()))?;
            v.as_u64()
                .map(|x| x as usize)
                .ok_or_else(|| invalid(k, format!("must be a non-negative integer, got {v}")))
        };
        let float = |k: &str, default: Option<f64>| -> Result<f64, ConfigError> {
            match get(k) {
                None => default.ok_or_else(|| ConfigError::Missing(k.into())),
                Some(v) => v.as_f64().ok_or_else(|| invalid(k, format!("must be a number, got {v}"))),
            }
        };
        let string = |k: &str, default: Option<&str>| -> Result<String, ConfigError> {
            match get(k) {
                None => default.map(str::to_string).ok_or_else(|| ConfigError::Missing(k.into())),
                Some(v) => v
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(k, format!("must be a string, got {v}"))),
            }
        };
        let pos_encodings = match string("pos_encodings", None)?.as_str() {
            "rope" => PosEncoding::Rope,
            "learned" => PosEncoding::Learned,
            "rope2d" => PosEncoding::Rope2d,
            other => return Err(invalid("pos_encodings", format!("must be \"rope\", \"learned\" or \"rope2d\", got {other:?}"))),
        };
        let loss_type = match string("loss_type", Some("stablemax_cross_entropy"))?.as_str() {
            "stablemax_cross_entropy" => LossType::StablemaxCrossEntropy,
            "softmax_cross_entropy" => LossType::SoftmaxCrossEntropy,
            other => return Err(invalid("loss_type", format!("unknown loss {other:?}"))),
        };
        let forward_dtype = string("forward_dtype", Some("bfloat16"))?;
        if !["float32", "bfloat16", "float16"].contains(&forward_dtype.as_str()) {
            return Err(invalid("forward_dtype", format!("must be float32, bfloat16 or float16, got {forward_dtype:?}")));
        }
        let cfg = Config {
            batch_size: int("batch_size")?,
            seq_len: int("seq_len")?,
            puzzle_emb_ndim: match get("puzzle_emb_ndim") {
                None => 0,
                Some(_) => int("puzzle_emb_ndim")?,
            },
            num_puzzle_identifiers: int("num_puzzle_identifiers")?,
            vocab_size: int("vocab_size")?,
            h_cycles: int("H_cycles")?,
            l_cycles: int("L_cycles")?,
            h_layers: int("H_layers")?,
            l_layers: int("L_layers")?,
            hidden_size: int("hidden_size")?,
            expansion: float("expansion", None)?,
            num_heads: int("num_heads")?,
            pos_encodings,
            rms_norm_eps: float("rms_norm_eps", Some(1e-5))?,
            rope_theta: float("rope_theta", Some(10000.0))?,
            halt_max_steps: int("halt_max_steps")?,
            halt_exploration_prob: float("halt_exploration_prob", None)?,
            forward_dtype,
            loss_type,
            attn_radius: match get("attn_radius") {
                None => 0,
                Some(_) => int("attn_radius")?,
            },
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks the values make a model the official code could build (and this one can run).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("batch_size", self.batch_size),
            ("seq_len", self.seq_len),
            ("num_puzzle_identifiers", self.num_puzzle_identifiers),
            ("vocab_size", self.vocab_size),
            ("H_cycles", self.h_cycles),
            ("L_cycles", self.l_cycles),
            ("H_layers", self.h_layers),
            ("L_layers", self.l_layers),
            ("hidden_size", self.hidden_size),
            ("num_heads", self.num_heads),
            ("halt_max_steps", self.halt_max_steps),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(invalid(name, "must be at least 1"));
            }
        }
        if self.hidden_size % self.num_heads != 0 {
            return Err(invalid(
                "num_heads",
                format!("must divide hidden_size ({} % {} != 0)", self.hidden_size, self.num_heads),
            ));
        }
        if self.pos_encodings == PosEncoding::Rope && self.head_dim() % 2 != 0 {
            return Err(invalid("num_heads", format!("gives an odd head_dim {} that RoPE cannot split", self.head_dim())));
        }
        if self.pos_encodings == PosEncoding::Rope2d {
            if self.head_dim() % 4 != 0 {
                return Err(invalid("num_heads", format!("gives head_dim {}, which 2-D RoPE cannot split into row and column pairs (needs a multiple of 4)", self.head_dim())));
            }
            if self.grid_side().is_none() {
                return Err(invalid("seq_len", format!("is {}, not a square grid, which rope2d needs", self.seq_len)));
            }
        }
        if self.attn_radius > 0 && self.grid_side().is_none() {
            return Err(invalid("seq_len", format!("is {}, not a square grid, which attn_radius needs", self.seq_len)));
        }
        if !(self.expansion.is_finite() && self.expansion > 0.0) {
            return Err(invalid("expansion", "must be a positive number"));
        }
        if !(0.0..=1.0).contains(&self.halt_exploration_prob) {
            return Err(invalid("halt_exploration_prob", "must be within [0, 1]"));
        }
        if !(self.rms_norm_eps.is_finite() && self.rms_norm_eps >= 0.0) {
            return Err(invalid("rms_norm_eps", "must be a non-negative number"));
        }
        if !(self.rope_theta.is_finite() && self.rope_theta > 0.0) {
            return Err(invalid("rope_theta", "must be a positive number"));
        }
        Ok(())
    }

    /// `d = h // nh`.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_heads
    }

    /// The side of the square grid the sequence lays out (Sudoku 9, a maze's n), if it is one.
    pub fn grid_side(&self) -> Option<usize> {
        let side = (self.seq_len as f64).sqrt().round() as usize;
        (side * side == self.seq_len).then_some(side)
    }

    /// `P = ceil(puzzle_emb_ndim / h)`: how many sequence positions the puzzle embedding occupies.
    pub fn puzzle_emb_len(&self) -> usize {
        self.puzzle_emb_ndim.div_ceil(self.hidden_size)
    }

    /// `T = P + S`: the sequence the transformer sees.
    pub fn total_seq(&self) -> usize {
        self.puzzle_emb_len() + self.seq_len
    }

    /// SwiGLU width `I = 256 * ceil(round(expansion * h * 2/3) / 256)`, Python's round-half-even.
    pub fn swiglu_width(&self) -> usize {
        let raw = (self.expansion * self.hidden_size as f64 * 2.0 / 3.0).round_ties_even() as usize;
        raw.div_ceil(256) * 256
    }

    /// `sqrt(h)`: the scale applied to every input embedding.
    pub fn embed_scale(&self) -> f32 {
        (self.hidden_size as f64).sqrt() as f32
    }

    /// JSON with the official names (the form `from_json_str` reads).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).expect("a Config always serializes")
    }
}

/// The official field names, in the order of HRM_SPEC.md §1 (plus `loss_type`).
pub const FIELDS: &[&str] = &[
    "batch_size",
    "seq_len",
    "puzzle_emb_ndim",
    "num_puzzle_identifiers",
    "vocab_size",
    "H_cycles",
    "L_cycles",
    "H_layers",
    "L_layers",
    "hidden_size",
    "expansion",
    "num_heads",
    "pos_encodings",
    "rms_norm_eps",
    "rope_theta",
    "halt_max_steps",
    "halt_exploration_prob",
    "forward_dtype",
    "loss_type",
];
