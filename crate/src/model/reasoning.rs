//! A reasoning module (HRM_SPEC §4.3): `f(z, inj) = Block_n(... Block_1(z + inj))`, the injection added
//! once at the input. `L(zL, zH, x) = f_L(zL, zH + x)`, `H(zH, zL) = f_H(zH, zL)`. Each level is ONE
//! stack of blocks reused for every cycle.

use super::block::{block_backward, block_forward, BlockActs, BlockGradScratch, Rope};
use super::weights::BlockParams;
use super::Dims;
use crate::backend::Backend;

/// Where a module call keeps its activations.
pub enum Acts<'a, B: Backend> {
    /// One set per layer, kept for the backward (the call that carries gradient).
    Saved(&'a mut [BlockActs<B>]),
    /// One shared set, overwritten block by block (no-grad calls).
    Scratch(&'a mut BlockActs<B>),
}

/// `z <- f(z, inj)`.
pub fn module_forward<B: Backend>(be: &B, d: &Dims, layers: &[BlockParams<B::Buf>], rope: Option<&Rope<B>>, z: &mut B::Buf, inj: &B::Buf, acts: Acts<B>) {
    match acts {
        Acts::Saved(acts) => {
            be.add(z, inj, &mut acts[0].input);
            for l in 0..layers.len() {
                if l > 0 {
                    let (prev, cur) = acts.split_at_mut(l);
                    be.copy(&prev[l - 1].out, &mut cur[0].input);
                }
                block_forward(be, d, &layers[l], rope, &mut acts[l], true);
            }
            be.copy(&acts[layers.len() - 1].out, z);
        }
        Acts::Scratch(a) => {
            be.add(z, inj, &mut a.input);
            for w in layers {
                block_forward(be, d, w, rope, a, false);
                std::mem::swap(&mut a.input, &mut a.out);
            }
            be.copy(&a.input, z);
        }
    }
}

/// Backward of a `Saved` call: `grad` holds d(output) on entry and d(z + inj) on return; `tmp` is a
/// same-sized scratch buffer. Weight gradients are ACCUMULATED into `g`.
#[allow(clippy::too_many_arguments)]
pub fn module_backward<B: Backend>(
    be: &B,
    d: &Dims,
    layers: &[BlockParams<B::Buf>],
    rope: Option<&Rope<B>>,
    acts: &[BlockActs<B>],
    g: &mut [BlockParams<B::Buf>],
    s: &mut BlockGradScratch<B>,
    grad: &mut B::Buf,
    tmp: &mut B::Buf,
) {
    for l in (0..layers.len()).rev() {
        block_backward(be, d, &layers[l], rope, &acts[l], grad, &mut g[l], s, tmp);
        std::mem::swap(grad, tmp);
    }
}
