//! The model's tensors on a backend, under their official state-dict names (HRM_SPEC §2).

use super::ModelError;
use crate::backend::Backend;
use crate::{Config, HostTensor, ParamStore, PosEncoding};

pub const PREFIX: &str = "model.inner.";

/// One transformer block's weights (or their gradients).
pub struct BlockParams<T> {
    /// `self_attn.qkv_proj.weight [3*nh*d, h]`
    pub qkv: T,
    /// `self_attn.o_proj.weight [h, nh*d]`
    pub o: T,
    /// `mlp.gate_up_proj.weight [2I, h]`
    pub gate_up: T,
    /// `mlp.down_proj.weight [h, I]`
    pub down: T,
}

/// Every trainable parameter (or its gradient), in one shape for weights and grads.
pub struct Params<T> {
    pub embed_tokens: T,
    pub embed_pos: Option<T>,
    pub lm_head: T,
    pub q_w: T,
    pub q_b: T,
    pub h_layers: Vec<BlockParams<T>>,
    pub l_layers: Vec<BlockParams<T>>,
}

/// `(name without prefix, shape)` of every trainable parameter, in a fixed order.
pub fn param_specs(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let (h, v, nh, d, i) = (cfg.hidden_size, cfg.vocab_size, cfg.num_heads, cfg.head_dim(), cfg.swiglu_width());
    let mut s = vec![("embed_tokens.embedding_weight".to_string(), vec![v, h])];
    if cfg.pos_encodings == PosEncoding::Learned {
        s.push(("embed_pos.embedding_weight".into(), vec![cfg.total_seq(), h]));
    }
    s.push(("lm_head.weight".into(), vec![v, h]));
    s.push(("q_head.weight".into(), vec![2, h]));
    s.push(("q_head.bias".into(), vec![2]));
    for (level, n) in [("H_level", cfg.h_layers), ("L_level", cfg.l_layers)] {
        for l in 0..n {
            let p = format!("{level}.layers.{l}.");
            s.push((format!("{p}self_attn.qkv_proj.weight"), vec![3 * nh * d, h]));
            s.push((format!("{p}self_attn.o_proj.weight"), vec![h, nh * d]));
            s.push((format!("{p}mlp.gate_up_proj.weight"), vec![2 * i, h]));
            s.push((format!("{p}mlp.down_proj.weight"), vec![h, i]));
        }
    }
    s
}

/// `(name without prefix, shape)` of the persistent buffers (no gradient).
pub fn buffer_specs(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let h = cfg.hidden_size;
    let mut s = vec![("H_init".to_string(), vec![h]), ("L_init".to_string(), vec![h])];
    if cfg.puzzle_emb_ndim > 0 {
        s.push(("puzzle_emb.weights".into(), vec![cfg.num_puzzle_identifiers, cfg.puzzle_emb_ndim]));
    }
    s
}

impl<T> Params<T> {
    /// Builds a parameter set by calling `make(name, shape)` for each parameter in [`param_specs`] order.
    pub fn build(cfg: &Config, mut make: impl FnMut(&str, &[usize]) -> Result<T, ModelError>) -> Result<Params<T>, ModelError> {
        let specs = param_specs(cfg);
        let mut it = specs.iter();
        let mut next = |name_end: &str| -> Result<T, ModelError> {
            let (n, s) = it.next().expect("param_specs order");
            debug_assert!(n.ends_with(name_end));
            make(n, s)
        };
        let embed_tokens = next("embed_tokens.embedding_weight")?;
        let embed_pos = if cfg.pos_encodings == PosEncoding::Learned { Some(next("embed_pos.embedding_weight")?) } else { None };
        let lm_head = next("lm_head.weight")?;
        let q_w = next("q_head.weight")?;
        let q_b = next("q_head.bias")?;
        let mut layers = |n: usize| -> Result<Vec<BlockParams<T>>, ModelError> {
            (0..n)
                .map(|_| Ok(BlockParams { qkv: next("qkv_proj.weight")?, o: next("o_proj.weight")?, gate_up: next("gate_up_proj.weight")?, down: next("down_proj.weight")? }))
                .collect()
        };
        let h_layers = layers(cfg.h_layers)?;
        let l_layers = layers(cfg.l_layers)?;
        Ok(Params { embed_tokens, embed_pos, lm_head, q_w, q_b, h_layers, l_layers })
    }

    /// Every tensor in [`param_specs`] order.
    pub fn iter(&self) -> Vec<&T> {
        let mut v = vec![&self.embed_tokens];
        v.extend(self.embed_pos.as_ref());
        v.extend([&self.lm_head, &self.q_w, &self.q_b]);
        for b in self.h_layers.iter().chain(&self.l_layers) {
            v.extend([&b.qkv, &b.o, &b.gate_up, &b.down]);
        }
        v
    }

    pub fn iter_mut(&mut self) -> Vec<&mut T> {
        let mut v = vec![&mut self.embed_tokens];
        v.extend(self.embed_pos.as_mut());
        v.extend([&mut self.lm_head, &mut self.q_w, &mut self.q_b]);
        for b in self.h_layers.iter_mut().chain(self.l_layers.iter_mut()) {
            v.extend([&mut b.qkv, &mut b.o, &mut b.gate_up, &mut b.down]);
        }
        v
    }
}

/// Looks up `model.inner.{name}` (also accepting the `_orig_mod.` prefix) and checks its shape.
pub fn lookup<'a>(store: &'a ParamStore, name: &str, shape: &[usize]) -> Result<&'a HostTensor, ModelError> {
    let full = format!("{PREFIX}{name}");
    let t = store
        .get(&full)
        .or_else(|| store.get(&format!("_orig_mod.{full}")))
        .ok_or_else(|| ModelError::MissingTensor(full.clone()))?;
    if t.shape != shape {
        return Err(ModelError::Shape { name: full, expected: shape.to_vec(), got: t.shape.clone() });
    }
    if let Some(i) = t.data.iter().position(|x| !x.is_finite()) {
        return Err(ModelError::NonFinite { name: full, index: i });
    }
    Ok(t)
}

/// The persistent buffers on the device.
pub struct Buffers<B: Backend> {
    pub h_init: B::Buf,
    pub l_init: B::Buf,
    /// `[num_puzzle_identifiers, puzzle_emb_ndim]`; an empty buffer when `puzzle_emb_ndim == 0`.
    pub puzzle_emb: B::Buf,
}
