// optim.wgsl: the optimizer updates, in place on the GPU.
// CPU twins: hrm::optim::adam_atan2_update, adamw_update, sign_sgd_rows; test: tests/gpu_train.rs
// (*_kernel_equals_*). Dispatch: backend/gpu/optim.rs.
//   adam_atan2: p *= wd_alpha; m = lerp(m, g, 1-b1); v = lerp(v, g^2, 1-b2);
//               p -= step_size * atan2(m, sqrt(v) / sqrt(1 - b2^t)),  lerp(m, x, t) = fma(t, x, fma(-t, m, m)).
//   adamw:      p *= wd_alpha; m = lerp(m, g, 1-b1); v = b2 v + (1-b2) g^2;
//               p -= step_size * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
//   sign_sgd:   per id named in the batch: g = sum of its rows' gradients; w = w * (1 - lr*wd) - lr*sign(g).
//               One invocation per (batch row, column); only the first batch row of each id writes.

struct Params {
    n: u32, nx: u32, dim: u32, batch: u32,
    step_size: f32, wd_alpha: f32, bc2_sqrt: f32, omb1: f32,
    omb2: f32, neg_lr: f32, num_ids: u32, beta2: f32,
    eps: f32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m1: array<f32>;
@group(0) @binding(3) var<storage, read_write> m2: array<f32>;
@group(0) @binding(4) var<storage, read> ids: array<u32>;
@group(1) @binding(0) var<uniform> p: Params;

fn lerp(m: f32, x: f32, t: f32) -> f32 { return fma(t, x, fma(-t, m, m)); }

@compute @workgroup_size(256)
fn adam_atan2(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wg.y * p.nx + wg.x) * 256u + lid.x;
    if (i >= p.n) { return; }
    let g = grad[i];
    var x = param[i] * p.wd_alpha;
    let m = lerp(m1[i], g, p.omb1);
    let v = lerp(m2[i], g * g, p.omb2);
    m1[i] = m;
    m2[i] = v;
    // atan2(0, 0) is undefined in WGSL (lavapipe returns ~1) but 0 in the CPU twin (libm): a parameter
    // whose gradient has always been 0 must only decay.
    var u = 0.0;
    if (m != 0.0) { u = atan2(m, sqrt(v) / p.bc2_sqrt); }
    x -= p.step_size * u;
    param[i] = x;
}

@compute @workgroup_size(256)
fn adamw(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wg.y * p.nx + wg.x) * 256u + lid.x;
    if (i >= p.n) { return; }
    let g = grad[i];
    var x = param[i] * p.wd_alpha;
    let m = lerp(m1[i], g, p.omb1);
    let v = m2[i] * p.beta2 + p.omb2 * g * g;
    m1[i] = m;
    m2[i] = v;
    x -= p.step_size * (m / (sqrt(v) / p.bc2_sqrt + p.eps));
    param[i] = x;
}

@compute @workgroup_size(256)
fn sign_sgd(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wg.y * p.nx + wg.x) * 256u + lid.x;     // over batch * dim
    if (i >= p.batch * p.dim) { return; }
    let r = i / p.dim;
    let c = i % p.dim;
    let id = ids[r];
    if (id >= p.num_ids) { return; }                // range-checked on the host
    for (var e = 0u; e < r; e++) {
        if (ids[e] == id) { return; }               // an earlier row owns this id
    }
    var g = 0.0;
    for (var e = r; e < p.batch; e++) {
        if (ids[e] == id) { g += grad[e * p.dim + c]; }
    }
    let w = id * p.dim + c;
    param[w] = param[w] * p.wd_alpha + p.neg_lr * sign(g);
}
