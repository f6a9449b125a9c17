//! Input embeddings (HRM_SPEC §4.1): token embeddings with the zero-padded puzzle embedding prepended,
//! learned positions if configured, all scaled by sqrt(h).

use super::segment::Work;
use super::weights::{Buffers, Params};
use crate::backend::Backend;

/// `work.x <- input_embeddings(work.tokens, work.ids)`; the puzzle rows land in `work.puzzle_rows`
/// (the official `local_weights`).
pub fn input_embeddings<B: Backend>(be: &B, p: &Params<B::Buf>, bufs: &Buffers<B>, scale: f32, w: &mut Work<B>) {
    let d = w.dims;
    if d.puzzle_dim > 0 {
        be.gather_rows(&bufs.puzzle_emb, &w.ids, d.puzzle_dim, &mut w.puzzle_rows);
    }
    be.embed_forward(d.embed(), &w.tokens, &w.puzzle_rows, &p.embed_tokens, p.embed_pos.as_ref(), scale, &mut w.x);
}

/// Backward of [`input_embeddings`] given `dx`: accumulates into the token / position gradients and
/// overwrites the per-row puzzle gradient.
pub fn input_embeddings_backward<B: Backend>(be: &B, scale: f32, w: &Work<B>, dx: &B::Buf, g: &mut Params<B::Buf>, puzzle_grad: &mut B::Buf) {
    be.embed_backward(w.dims.embed(), &w.tokens, dx, scale, &mut g.embed_tokens, g.embed_pos.as_mut(), puzzle_grad);
}
