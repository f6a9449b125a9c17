// attention.wgsl: non-causal multi-head attention softmax(q k^T / sqrt(d)) v over a packed
// qkv [B*T, 3*nh*d] (q heads, k heads, v heads), over all keys or, with radius > 0, the keys a local
// window allows (`allows`), tiled with an online softmax (FlashAttention-2 style):
// no T x T score matrix is ever stored, so T = 901 (30x30 maze + 1 puzzle position) costs O(T) memory.
// CPU twin: hrm::backend::cpu::attention; test: tests/gpu_ops.rs (attention_*). Dispatch:
// backend/gpu/attention.rs.
//   forward : one invocation per query row, key/value tiles of 32 in workgroup memory (16 KiB);
//             writes o [B*T, nh*d] and the row log-sum-exp lse [B, nh, T] for the backward.
//   delta   : delta = rowsum(dO * O) [B, nh, T].
//   grad_q  : one invocation per query row: dq = scale * sum_j p_ij (dO_i . v_j - delta_i) k_j.
//   grad_kv : one invocation per key row, query tiles of 16: dv_j = sum_i p_ij dO_i,
//             dk_j = scale * sum_i p_ij (dO_i . v_j - delta_i) q_i.
// dq, dk, dv land in the matching columns of dqkv [B*T, 3*nh*d]. head_dim d <= 64.

struct Params { seq: u32, heads: u32, d: u32, scale: f32, rows: u32, prefix: u32, side: u32, radius: u32 }

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> o_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> lse_out: array<f32>;
@group(0) @binding(3) var<storage, read> o_in: array<f32>;
@group(0) @binding(4) var<storage, read> d_o: array<f32>;
@group(0) @binding(5) var<storage, read_write> delta_out: array<f32>;
@group(0) @binding(6) var<storage, read> lse_in: array<f32>;
@group(0) @binding(7) var<storage, read> delta_in: array<f32>;
@group(0) @binding(8) var<storage, read_write> dqkv: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

const BQ: u32 = 64u;      // query (or key) rows per workgroup: one per invocation
const BKV: u32 = 32u;     // keys per tile in forward / grad_q
const BQT: u32 = 16u;     // queries per tile in grad_kv
const DMAX: u32 = 64u;

// 16 KiB in all. grad_kv uses the first 16 rows for scale*Q / dO and keeps the query tile's lse and
// delta right after them (element LSE_AT on), inside the same 16 KiB.
var<workgroup> tile_a: array<f32, 2048>;   // [32][64]: K (forward, grad_q) or scale*Q (grad_kv)
var<workgroup> tile_b: array<f32, 2048>;   // [32][64]: V (forward, grad_q) or dO (grad_kv)
const LSE_AT: u32 = 1024u;                 // BQT * DMAX

fn width() -> u32 { return 3u * p.heads * p.d; }
fn q_at(row: u32, h: u32) -> u32 { return row * width() + h * p.d; }
fn k_at(row: u32, h: u32) -> u32 { return row * width() + (p.heads + h) * p.d; }
fn v_at(row: u32, h: u32) -> u32 { return row * width() + (2u * p.heads + h) * p.d; }
fn o_at(row: u32, h: u32) -> u32 { return row * p.heads * p.d + h * p.d; }
fn stat_at(b: u32, h: u32, t: u32) -> u32 { return (b * p.heads + h) * p.seq + t; }

// Whether query position i reads key position j. radius 0: always (the official model). Otherwise
// (attn_radius) a grid cell reads the cells at most `radius` rows and columns away and not the
// `prefix` puzzle positions, which read everything. CPU twin: backend::cpu::attention::Local::allows.
fn allows(i: u32, j: u32) -> bool {
    if (p.radius == 0u || i < p.prefix) { return true; }
    if (j < p.prefix) { return false; }
    let a = i - p.prefix;
    let b = j - p.prefix;
    let dr = max(a / p.side, b / p.side) - min(a / p.side, b / p.side);
    let dc = max(a % p.side, b % p.side) - min(a % p.side, b % p.side);
    return dr <= p.radius && dc <= p.radius;
}

// Load keys j0..j0+BKV of (b, h) into tile_a (K) and tile_b (V); out-of-range keys are never read.
fn load_kv(b: u32, h: u32, j0: u32, lane: u32) {
    for (var e = lane; e < BKV * p.d; e += BQ) {
        let jj = e / p.d;
        let c = e % p.d;
        let key = j0 + jj;
        if (key < p.seq) {
            let r = b * p.seq + key;
            tile_a[jj * DMAX + c] = qkv[k_at(r, h) + c];
            tile_b[jj * DMAX + c] = qkv[v_at(r, h) + c];
        }
    }
}

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let b = wg.z;
    let h = wg.y;
    let t = wg.x * BQ + lid.x;
    let tt = min(t, p.seq - 1u);   // padding lanes compute a copy and write nothing
    let row = b * p.seq + tt;
    var q: array<f32, 64>;
    var acc: array<f32, 64>;
    for (var c = 0u; c < p.d; c++) { q[c] = qkv[q_at(row, h) + c] * p.scale; }
    var m = -3.0e38;
    var l = 0.0;
    for (var j0 = 0u; j0 < p.seq; j0 += BKV) {
        load_kv(b, h, j0, lid.x);
        workgroupBarrier();
        let nk = min(BKV, p.seq - j0);
        var s: array<f32, 32>;
        var m_new = m;
        for (var jj = 0u; jj < nk; jj++) {
            var dot = 0.0;
            for (var c = 0u; c < p.d; c++) { dot = fma(q[c], tile_a[jj * DMAX + c], dot); }
            s[jj] = dot;
            if (allows(tt, j0 + jj)) { m_new = max(m_new, dot); }
        }
        let corr = exp(m - m_new);
        l = l * corr;
        for (var c = 0u; c < p.d; c++) { acc[c] = acc[c] * corr; }
        for (var jj = 0u; jj < nk; jj++) {
            let pj = select(0.0, exp(s[jj] - m_new), allows(tt, j0 + jj));
            l += pj;
            for (var c = 0u; c < p.d; c++) { acc[c] = fma(pj, tile_b[jj * DMAX + c], acc[c]); }
        }
        m = m_new;
        workgroupBarrier();
    }
    if (t < p.seq) {
        let inv = 1.0 / l;
        for (var c = 0u; c < p.d; c++) { o_out[o_at(row, h) + c] = acc[c] * inv; }
        lse_out[stat_at(b, h, t)] = m + log(l);
    }
}

// One invocation per (row, head); rows = B*T along x*64 (+ y for the flattened grid), heads along z.
@compute @workgroup_size(64)
fn delta(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = (wg.y * nwg.x + wg.x) * BQ + lid.x;
    let h = wg.z;
    if (row >= p.rows) { return; }
    var s = 0.0;
    for (var c = 0u; c < p.d; c++) { s = fma(d_o[o_at(row, h) + c], o_in[o_at(row, h) + c], s); }
    delta_out[stat_at(row / p.seq, h, row % p.seq)] = s;
}

@compute @workgroup_size(64)
fn grad_q(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let b = wg.z;
    let h = wg.y;
    let t = wg.x * BQ + lid.x;
    let tt = min(t, p.seq - 1u);
    let row = b * p.seq + tt;
    var q: array<f32, 64>;
    var g: array<f32, 64>;
    var dq: array<f32, 64>;
    for (var c = 0u; c < p.d; c++) {
        q[c] = qkv[q_at(row, h) + c] * p.scale;
        g[c] = d_o[o_at(row, h) + c];
    }
    let lse = lse_in[stat_at(b, h, tt)];
    let dl = delta_in[stat_at(b, h, tt)];
    for (var j0 = 0u; j0 < p.seq; j0 += BKV) {
        load_kv(b, h, j0, lid.x);
        workgroupBarrier();
        let nk = min(BKV, p.seq - j0);
        for (var jj = 0u; jj < nk; jj++) {
            var s = 0.0;
            var dp = 0.0;
            for (var c = 0u; c < p.d; c++) {
                s = fma(q[c], tile_a[jj * DMAX + c], s);
                dp = fma(g[c], tile_b[jj * DMAX + c], dp);
            }
            let ds = select(0.0, exp(s - lse) * (dp - dl), allows(tt, j0 + jj));
            for (var c = 0u; c < p.d; c++) { dq[c] = fma(ds, tile_a[jj * DMAX + c], dq[c]); }
        }
        workgroupBarrier();
    }
    if (t < p.seq) {
        for (var c = 0u; c < p.d; c++) { dqkv[q_at(row, h) + c] = dq[c] * p.scale; }
    }
}

@compute @workgroup_size(64)
fn grad_kv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let b = wg.z;
    let h = wg.y;
    let j = wg.x * BQ + lid.x;
    let jt = min(j, p.seq - 1u);
    let row = b * p.seq + jt;
    var k: array<f32, 64>;
    var v: array<f32, 64>;
    var dk: array<f32, 64>;
    var dv: array<f32, 64>;
    for (var c = 0u; c < p.d; c++) {
        k[c] = qkv[k_at(row, h) + c];
        v[c] = qkv[v_at(row, h) + c];
    }
    for (var i0 = 0u; i0 < p.seq; i0 += BQT) {
        for (var e = lid.x; e < BQT * p.d; e += BQ) {
            let ii = e / p.d;
            let c = e % p.d;
            let qi = i0 + ii;
            if (qi < p.seq) {
                let r = b * p.seq + qi;
                tile_a[ii * DMAX + c] = qkv[q_at(r, h) + c] * p.scale;
                tile_b[ii * DMAX + c] = d_o[o_at(r, h) + c];
            }
        }
        if (lid.x < BQT && i0 + lid.x < p.seq) {
            tile_a[LSE_AT + lid.x] = lse_in[stat_at(b, h, i0 + lid.x)];
            tile_b[LSE_AT + lid.x] = delta_in[stat_at(b, h, i0 + lid.x)];
        }
        workgroupBarrier();
        let nq = min(BQT, p.seq - i0);
        for (var ii = 0u; ii < nq; ii++) {
            var s = 0.0;
            var dp = 0.0;
            for (var c = 0u; c < p.d; c++) {
                s = fma(tile_a[ii * DMAX + c], k[c], s);
                dp = fma(tile_b[ii * DMAX + c], v[c], dp);
            }
            let pij = select(0.0, exp(s - tile_a[LSE_AT + ii]), allows(i0 + ii, jt));
            let ds = pij * (dp - tile_b[LSE_AT + ii]);
            for (var c = 0u; c < p.d; c++) {
                dv[c] = fma(pij, tile_b[ii * DMAX + c], dv[c]);
                dk[c] = fma(ds, tile_a[ii * DMAX + c], dk[c]);   // tile_a holds scale * q
            }
        }
        workgroupBarrier();
    }
    if (j < p.seq) {
        for (var c = 0u; c < p.d; c++) {
            dqkv[k_at(row, h) + c] = dk[c];
            dqkv[v_at(row, h) + c] = dv[c];
        }
    }
}
