//! `shaders/optim.wgsl`: AdamATan2, AdamW and the sparse SignSGD, in place on GPU tensors. The per-step
//! scalars come from the CPU optimizer (`hrm::optim::AdamAtan2Coeffs`, `AdamWCoeffs`), so both backends
//! share them. The trainer reaches these through `Backend::adam_update` / `Backend::sign_sgd_rows`.

use super::context::{GpuContext, GpuError};
use super::kernels::{groups_1d, Access, Shader};
use super::pool::GpuTensor;

pub(crate) const SHADER: Shader = Shader { name: "optim.wgsl", source: include_str!("../../../../shaders/optim.wgsl") };

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    nx: u32,
    dim: u32,
    batch: u32,
    step_size: f32,
    wd_alpha: f32,
    bc2_sqrt: f32,
    omb1: f32,
    omb2: f32,
    neg_lr: f32,
    num_ids: u32,
    beta2: f32,
    eps: f32,
    _pad: [u32; 3],
}

/// The scalars of one AdamATan2 step (see `hrm::optim::AdamAtan2Coeffs` for how they are derived).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamAtan2Scalars {
    pub step_size: f32,
    pub wd_alpha: f32,
    pub bias_correction2_sqrt: f32,
    pub one_minus_beta1: f32,
    pub one_minus_beta2: f32,
}

/// param, m, v updated in place from grad (all of one length).
pub fn dispatch_adam_atan2(ctx: &GpuContext, c: &AdamAtan2Scalars, param: &GpuTensor, grad: &GpuTensor, m: &GpuTensor, v: &GpuTensor) -> Result<(), GpuError> {
    let scalars = Params {
        step_size: c.step_size,
        wd_alpha: c.wd_alpha,
        bc2_sqrt: c.bias_correction2_sqrt,
        omb1: c.one_minus_beta1,
        omb2: c.one_minus_beta2,
        ..Default::default()
    };
    dispatch_adam(ctx, "adam_atan2", scalars, [param, grad, m, v])
}

/// AdamW (`torch.optim.AdamW`): param, m, v updated in place from grad (all of one length).
pub fn dispatch_adamw(ctx: &GpuContext, c: &crate::optim::AdamWCoeffs, param: &GpuTensor, grad: &GpuTensor, m: &GpuTensor, v: &GpuTensor) -> Result<(), GpuError> {
    let scalars = Params {
        step_size: c.step_size,
        wd_alpha: c.wd_alpha,
        bc2_sqrt: c.bias_correction2_sqrt,
        omb1: c.one_minus_beta1,
        omb2: c.one_minus_beta2,
        beta2: c.beta2,
        eps: c.eps,
        ..Default::default()
    };
    dispatch_adam(ctx, "adamw", scalars, [param, grad, m, v])
}

/// The shared part of the two Adam entry points: one length for all four buffers, one thread per
/// value, bindings (param rw, grad r, m rw, v rw). `scalars` brings the variant's fields.
fn dispatch_adam(ctx: &GpuContext, entry: &str, scalars: Params, [param, grad, m, v]: [&GpuTensor; 4]) -> Result<(), GpuError> {
    let n = param.numel();
    if grad.numel() != n || m.numel() != n || v.numel() != n {
        return Err(GpuError::Shape(format!("{entry}: param {:?}, grad {:?}, m {:?}, v {:?}", param.shape, grad.shape, m.shape, v.shape)));
    }
    let groups = groups_1d(n, 256);
    let p = Params { n: n as u32, nx: groups[0], ..scalars };
    let k = ctx.kernel(&SHADER, entry, &[(0, Access::ReadWrite), (1, Access::Read), (2, Access::ReadWrite), (3, Access::ReadWrite)], &[]);
    ctx.dispatch(&k, &[param, grad, m, v], &p, groups)
}

/// weights [num_ids, D]: every row named in ids [B] (u32, < num_ids) becomes
/// `w * (1 - lr*wd) - lr * sign(sum of its row_grads [B, D])`; other rows are untouched.
pub fn dispatch_sign_sgd(ctx: &GpuContext, weights: &GpuTensor, row_grads: &GpuTensor, ids: &GpuTensor, lr: f64, weight_decay: f64) -> Result<(), GpuError> {
    let (num_ids, dim) = match weights.shape.as_slice() {
        [r, d] if *d > 0 => (*r, *d),
        _ => return Err(GpuError::Shape(format!("sign_sgd: weights must be [num_ids, D], got {:?}", weights.shape))),
    };
    let batch = ids.numel();
    if row_grads.numel() != batch * dim {
        return Err(GpuError::Shape(format!("sign_sgd: gradient {:?} is not [{batch}, {dim}]", row_grads.shape)));
    }
    let groups = groups_1d(batch * dim, 256);
    let p = Params {
        nx: groups[0],
        dim: dim as u32,
        batch: batch as u32,
        wd_alpha: (1.0 - lr * weight_decay) as f32,
        neg_lr: -lr as f32,
        num_ids: num_ids as u32,
        ..Default::default()
    };
    let k = ctx.kernel(&SHADER, "sign_sgd", &[(0, Access::ReadWrite), (1, Access::Read), (4, Access::Read)], &[]);
    ctx.dispatch(&k, &[weights, row_grads, ids], &p, groups)
}

impl From<&crate::optim::AdamAtan2Coeffs> for AdamAtan2Scalars {
    fn from(c: &crate::optim::AdamAtan2Coeffs) -> AdamAtan2Scalars {
        AdamAtan2Scalars {
            step_size: c.step_size,
            wd_alpha: c.wd_alpha,
            bias_correction2_sqrt: c.bias_correction2_sqrt,
            one_minus_beta1: c.one_minus_beta1,
            one_minus_beta2: c.one_minus_beta2,
        }
    }
}
