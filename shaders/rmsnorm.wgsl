// rmsnorm.wgsl: parameter-free RMSNorm y = x * rstd, rstd = 1/sqrt(mean(x^2) + eps), forward (with the
// block's residual add fused in) and backward dx = rstd * (dy - y * mean(dy * y)).
// CPU twin: hrm::backend::cpu::rmsnorm; test: tests/gpu_ops.rs (rmsnorm_*). Dispatch: backend/gpu/rmsnorm.rs.
// One 64-invocation workgroup per row; the row sum is a tree reduction in workgroup memory.

struct Params { rows: u32, cols: u32, eps: f32, nx: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;        // x, or the residual stream
@group(0) @binding(1) var<storage, read> b: array<f32>;        // the branch added to a (add_norm)
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(4) var<storage, read> yin: array<f32>;      // backward: the forward output
@group(0) @binding(5) var<storage, read> rin: array<f32>;      // backward: the forward rstd
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

const WG: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

fn row_sum(v: f32, t: u32) -> f32 {
    partial[t] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (t < s) { partial[t] = partial[t] + partial[t + s]; }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

fn norm_row(row: u32, t: u32, with_b: bool) {
    let base = row * p.cols;
    var ss = 0.0;
    for (var c = t; c < p.cols; c += WG) {
        var v = a[base + c];
        if (with_b) { v = v + b[base + c]; }
        ss += v * v;
    }
    let r = 1.0 / sqrt(row_sum(ss, t) / f32(p.cols) + p.eps);
    for (var c = t; c < p.cols; c += WG) {
        var v = a[base + c];
        if (with_b) { v = v + b[base + c]; }
        y[base + c] = v * r;
    }
    if (t == 0u) { rstd[row] = r; }
}

@compute @workgroup_size(64)
fn norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wg.y * p.nx + wg.x;
    if (row >= p.rows) { return; }   // uniform per workgroup, so the barriers stay uniform
    norm_row(row, t, false);
}

// y = rms_norm(a + b): the post-norm block's `rms_norm(x + Attn(x))` in one pass.
@compute @workgroup_size(64)
fn add_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wg.y * p.nx + wg.x;
    if (row >= p.rows) { return; }
    norm_row(row, t, true);
}

@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wg.y * p.nx + wg.x;
    if (row >= p.rows) { return; }
    let base = row * p.cols;
    var s = 0.0;
    for (var c = t; c < p.cols; c += WG) { s += dy[base + c] * yin[base + c]; }
    let mean_dy_y = row_sum(s, t) / f32(p.cols);
    let r = rin[row];
    for (var c = t; c < p.cols; c += WG) {
        dx[base + c] = r * (dy[base + c] - yin[base + c] * mean_dy_y);
    }
}
