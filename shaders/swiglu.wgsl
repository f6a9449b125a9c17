// swiglu.wgsl: the SwiGLU gate. gu [M, 2I] = x @ Wgu^T holds the gate g (first I columns) and the up
// projection u (last I); forward a = silu(g) * u [M, I]; backward from da:
//   dg = da * u * silu'(g),  du = da * silu(g),  silu'(g) = s * (1 + g * (1 - s)),  s = sigmoid(g).
// CPU twin: hrm::backend::cpu::swiglu; test: tests/gpu_ops.rs (swiglu_*). Dispatch: backend/gpu/swiglu.rs.

struct Params { n: u32, width: u32, nx: u32, _p: u32 }   // n = M * I, width = I

@group(0) @binding(0) var<storage, read> gu: array<f32>;
@group(0) @binding(1) var<storage, read_write> act: array<f32>;
@group(0) @binding(2) var<storage, read> da: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgu: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wg.y * p.nx + wg.x) * 256u + lid.x;
    if (i >= p.n) { return; }
    let row = i / p.width;
    let col = i % p.width;
    let g = gu[row * 2u * p.width + col];
    let u = gu[row * 2u * p.width + p.width + col];
    act[i] = g * sigmoid(g) * u;
}

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wg.y * p.nx + wg.x) * 256u + lid.x;
    if (i >= p.n) { return; }
    let row = i / p.width;
    let col = i % p.width;
    let gi = row * 2u * p.width + col;
    let g = gu[gi];
    let u = gu[gi + p.width];
    let s = sigmoid(g);
    dgu[gi] = da[i] * u * s * (1.0 + g * (1.0 - s));
    dgu[gi + p.width] = da[i] * g * s;
}
