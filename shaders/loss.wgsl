// loss.wgsl: the ACT loss head's gradients (HRM_SPEC §6) in f32 (the reference uses f64 for stablemax;
// expect ~1e-7 relative differences).
// CPU twin: hrm::backend::cpu::loss (stablemax CE, BCE); test: tests/gpu_ops.rs (loss_*). Dispatch:
// backend/gpu/loss.rs.
//   stablemax_ce: one workgroup per example b over its S label positions (logits rows P.. of b):
//     s(x) = x < 0 ? 1/(1 - x + 1e-30) : x + 1,  ce = -log(s(x_y) / sum_j s(x_j)),
//     d ce/d x_i = s'(x_i)/Z - [i = y] s'(x_y)/s(x_y),  s'(x) = x < 0 ? 1/(1-x)^2 : 1,
//     dlogits = grad_scale / max(count_b, 1) * d ce/dx (0 for ignored labels -100 and puzzle rows),
//     stats[b] = (sum ce / max(count, 1), 0, correct, count) with argmax ties to the first index (the
//     CPU twin splits the f64 row loss into hi + lo; here lo is 0).
//   SOFTMAX = true: ordinary softmax cross-entropy instead (the official alternative loss).
//   q_bce: per example, BCE-with-logits of q_halt against all-correct (correct == count) and of
//     q_continue against the target, dq = grad_scale * 0.5 * (sigmoid(x) - y).

override SOFTMAX: bool = false;

struct Params { s: u32, t: u32, p_len: u32, v: u32, grad_scale: f32, batch: u32, has_cont: u32, _p: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;     // [B*T, V]
@group(0) @binding(1) var<storage, read> labels: array<i32>;     // [B*S], -100 = ignore
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>; // [B, 4]
@group(0) @binding(4) var<storage, read> q: array<f32>;          // [B, 2]: q_halt, q_continue logits
@group(0) @binding(5) var<storage, read> stats_in: array<f32>;
@group(0) @binding(6) var<storage, read> cont_target: array<f32>; // [B]
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;   // [B, 2]
@group(0) @binding(8) var<storage, read_write> qloss: array<f32>; // [B, 2]
@group(1) @binding(0) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

fn total(v: f32, t: u32) -> f32 {
    red[t] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (t < s) { red[t] = red[t] + red[t + s]; }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

fn smax(x: f32) -> f32 { return select(x + 1.0, 1.0 / (1.0 - x + 1e-30), x < 0.0); }
fn dsmax(x: f32) -> f32 {
    let d = 1.0 - x;
    return select(1.0, 1.0 / (d * d), x < 0.0);
}

@compute @workgroup_size(256)
fn stablemax_ce(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let b = wg.x;
    var cnt = 0.0;
    for (var s = t; s < p.s; s += WG) {
        if (labels[b * p.s + s] >= 0) { cnt += 1.0; }
    }
    let count = total(cnt, t);
    let divisor = max(count, 1.0);
    let w = p.grad_scale / divisor;
    for (var e = t; e < p.p_len * p.v; e += WG) { dlogits[b * p.t * p.v + e] = 0.0; }
    var ce_sum = 0.0;
    var correct = 0.0;
    for (var s = t; s < p.s; s += WG) {
        let base = (b * p.t + p.p_len + s) * p.v;
        let y = labels[b * p.s + s];
        if (y < 0) {
            for (var i = 0u; i < p.v; i++) { dlogits[base + i] = 0.0; }
            continue;
        }
        let yy = u32(y);
        var best = logits[base];
        var arg = 0u;
        for (var i = 1u; i < p.v; i++) {
            let x = logits[base + i];
            if (x > best) { best = x; arg = i; }
        }
        if (arg == yy) { correct += 1.0; }
        let xy = logits[base + yy];
        if (SOFTMAX) {
            var z = 0.0;
            for (var i = 0u; i < p.v; i++) { z += exp(logits[base + i] - best); }
            ce_sum += log(z) + best - xy;
            for (var i = 0u; i < p.v; i++) {
                var g = exp(logits[base + i] - best) / z;
                if (i == yy) { g -= 1.0; }
                dlogits[base + i] = g * w;
            }
        } else {
            var z = 0.0;
            for (var i = 0u; i < p.v; i++) { z += smax(logits[base + i]); }
            let sy = smax(xy);
            ce_sum += log(z) - log(sy);
            let gy = dsmax(xy) / sy;
            for (var i = 0u; i < p.v; i++) {
                var g = dsmax(logits[base + i]) / z;
                if (i == yy) { g -= gy; }
                dlogits[base + i] = g * w;
            }
        }
    }
    let ce = total(ce_sum, t);
    let right = total(correct, t);
    if (t == 0u) {
        stats[b * 4u] = ce / divisor;
        stats[b * 4u + 1u] = 0.0;
        stats[b * 4u + 2u] = right;
        stats[b * 4u + 3u] = count;
    }
}

fn bce(x: f32, y: f32) -> f32 { return max(x, 0.0) - x * y + log(1.0 + exp(-abs(x))); }
fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

@compute @workgroup_size(64)
fn q_bce(@builtin(global_invocation_id) gid: vec3<u32>) {
    let b = gid.x;
    if (b >= p.batch) { return; }
    let xh = q[b * 2u];
    let yh = select(0.0, 1.0, stats_in[b * 4u + 2u] == stats_in[b * 4u + 3u]);
    qloss[b * 2u] = bce(xh, yh);
    dq[b * 2u] = p.grad_scale * 0.5 * (sigmoid(xh) - yh);
    if (p.has_cont != 0u) {
        let xc = q[b * 2u + 1u];
        let yc = cont_target[b];
        qloss[b * 2u + 1u] = bce(xc, yc);
        dq[b * 2u + 1u] = p.grad_scale * 0.5 * (sigmoid(xc) - yc);
    } else {
        qloss[b * 2u + 1u] = 0.0;
        dq[b * 2u + 1u] = 0.0;
    }
}
