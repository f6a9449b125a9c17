"""HRM ACT-v1 in eager PyTorch, laid out as the official modules (HRM_SPEC.md), for one job: timing
the official math on the same machine as `hrm bench`, since the host's speed drifts and a figure
measured elsewhere says nothing about the code. It is not part of the product and not run by CI.

    python3 -m venv /tmp/tv && /tmp/tv/bin/pip install torch==2.15.0 safetensors
    /tmp/tv/bin/python tests/torch/hrm_torch.py --check tests/fixtures/parity/visible   # same numbers?
    /tmp/tv/bin/python tests/torch/hrm_torch.py --preset sudoku-small                     # timings

`--check` runs a parity folder (the official code's vectors) and prints the worst differences, so
the timed model is known to be the official computation. The timings are float32, eager, torch's
own threads (2 by default), attention by scaled_dot_product_attention (what the parity vectors'
generator used in place of flash_attn), AdamATan2 as the adam-atan2 package's update in torch ops.
"""
import argparse, json, math, os, statistics, time

import torch
import torch.nn.functional as F

IGNORE = -100


def rms_norm(x, eps):
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.square().mean(-1, keepdim=True) + eps)).to(x.dtype)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Hrm(torch.nn.Module):
    """The inner model and its ACT wrapper; parameters under the official state-dict names."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        h, nh = c["hidden_size"], c["num_heads"]
        self.d = h // nh
        self.P = -(c["puzzle_emb_ndim"] // -h) if c["puzzle_emb_ndim"] else 0
        self.T = self.P + c["seq_len"]
        inter = 256 * math.ceil(round(c["expansion"] * h * 2 / 3) / 256)
        std = 1 / math.sqrt(h)
        P = torch.nn.Parameter

        def w(*shape, s=std):
            return P(torch.nn.init.trunc_normal_(torch.empty(*shape), std=s, a=-2 * s, b=2 * s))

        self.p = {}  # official names (with dots, which ParameterDict refuses)
        self.p["embed_tokens.embedding_weight"] = w(c["vocab_size"], h)
        self.p["lm_head.weight"] = w(c["vocab_size"], h)
        self.p["q_head.weight"] = P(torch.zeros(2, h))
        self.p["q_head.bias"] = P(torch.full((2,), -5.0))
        for lvl in ("H", "L"):
            for i in range(c[f"{lvl}_layers"]):
                pre = f"{lvl}_level.layers.{i}."
                self.p[pre + "self_attn.qkv_proj.weight"] = w(3 * nh * self.d, h)
                self.p[pre + "self_attn.o_proj.weight"] = w(h, nh * self.d, s=1 / math.sqrt(nh * self.d))
                self.p[pre + "mlp.gate_up_proj.weight"] = w(2 * inter, h)
                self.p[pre + "mlp.down_proj.weight"] = w(h, inter, s=1 / math.sqrt(inter))
        self.H_init = torch.nn.init.trunc_normal_(torch.empty(h), std=1, a=-2, b=2)
        self.L_init = torch.nn.init.trunc_normal_(torch.empty(h), std=1, a=-2, b=2)
        self.puzzle_weights = torch.zeros(c["num_puzzle_identifiers"], c["puzzle_emb_ndim"])
        self.local_weights = torch.zeros(c["batch_size"], c["puzzle_emb_ndim"], requires_grad=True)
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.d, 2, dtype=torch.float32) / self.d))
        emb = torch.cat([torch.outer(torch.arange(self.T, dtype=torch.float32), inv)] * 2, dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()
        self.eps = c.get("rms_norm_eps", 1e-5)

    # --- layers (models/layers.py)
    def attn(self, pre, x):
        B, T, _ = x.shape
        nh, d = self.c["num_heads"], self.d
        qkv = F.linear(x, self.p[pre + "qkv_proj.weight"]).view(B, T, 3 * nh, d)
        q, k, v = qkv[:, :, :nh], qkv[:, :, nh : 2 * nh], qkv[:, :, 2 * nh :]
        cos, sin = self.cos[:, None, :], self.sin[:, None, :]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        o = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=False)
        return F.linear(o.transpose(1, 2).reshape(B, T, nh * d), self.p[pre + "o_proj.weight"])

    def mlp(self, pre, x):
        g, u = F.linear(x, self.p[pre + "gate_up_proj.weight"]).chunk(2, dim=-1)
        return F.linear(F.silu(g) * u, self.p[pre + "down_proj.weight"])

    def module(self, lvl, z, inj):
        z = z + inj
        for i in range(self.c[f"{lvl}_layers"]):
            pre = f"{lvl}_level.layers.{i}."
            z = rms_norm(z + self.attn(pre + "self_attn.", z), self.eps)
            z = rms_norm(z + self.mlp(pre + "mlp.", z), self.eps)
        return z

    # --- the inner model (hrm_act_v1.py)
    def embeddings(self, inputs, ids):
        e = F.embedding(inputs.long(), self.p["embed_tokens.embedding_weight"])
        if self.P:
            if self.training:
                with torch.no_grad():
                    self.local_weights.copy_(self.puzzle_weights[ids.long()])
                pe = self.local_weights
            else:
                pe = self.puzzle_weights[ids.long()]
            pe = F.pad(pe, (0, self.P * self.c["hidden_size"] - pe.shape[-1]))
            e = torch.cat((pe.view(-1, self.P, self.c["hidden_size"]), e), dim=-2)
        return math.sqrt(self.c["hidden_size"]) * e

    def inner(self, zH, zL, data):
        x = self.embeddings(data["inputs"], data["puzzle_identifiers"])
        with torch.no_grad():
            for i in range(self.c["H_cycles"]):
                for j in range(self.c["L_cycles"]):
                    if not (i == self.c["H_cycles"] - 1 and j == self.c["L_cycles"] - 1):
                        zL = self.module("L", zL, zH + x)
                if i != self.c["H_cycles"] - 1:
                    zH = self.module("H", zH, zL)
        zL = self.module("L", zL, zH + x)
        zH = self.module("H", zH, zL)
        logits = F.linear(zH, self.p["lm_head.weight"])[:, self.P :]
        q = F.linear(zH[:, 0], self.p["q_head.weight"], self.p["q_head.bias"]).float()
        return zH.detach(), zL.detach(), logits, q[..., 0], q[..., 1]

    # --- ACT wrapper and loss head (hrm_act_v1.py, losses.py)
    def initial_carry(self, batch):
        B, h = batch["inputs"].shape[0], self.c["hidden_size"]
        return dict(zH=torch.empty(B, self.T, h), zL=torch.empty(B, self.T, h), steps=torch.zeros(B, dtype=torch.int32),
                    halted=torch.ones(B, dtype=torch.bool), data={k: torch.empty_like(v) for k, v in batch.items()})

    def forward(self, carry, batch):
        hm = carry["halted"]
        zH = torch.where(hm.view(-1, 1, 1), self.H_init, carry["zH"])
        zL = torch.where(hm.view(-1, 1, 1), self.L_init, carry["zL"])
        steps = torch.where(hm, 0, carry["steps"])
        data = {k: torch.where(hm.view((-1,) + (1,) * (v.ndim - 1)), batch[k], v) for k, v in carry["data"].items()}
        zH, zL, logits, qh, qc = self.inner(zH, zL, data)
        out = dict(logits=logits, q_halt=qh, q_continue=qc)
        with torch.no_grad():
            steps = steps + 1
            is_last = steps >= self.c["halt_max_steps"]
            halted = is_last
            if self.training and self.c["halt_max_steps"] > 1:
                halted = halted | (qh > qc)
                explore = torch.rand_like(qh) < self.c["halt_exploration_prob"]
                min_halt = explore * torch.randint_like(steps, low=2, high=self.c["halt_max_steps"] + 1)
                halted = halted & (steps >= min_halt)
                _, _, _, nqh, nqc = self.inner(zH, zL, data)
                out["target_q_continue"] = torch.sigmoid(torch.where(is_last, nqh, torch.maximum(nqh, nqc)))
        return dict(zH=zH, zL=zL, steps=steps, halted=halted, data=data), out


def stablemax_ce(logits, labels):
    x = logits.to(torch.float64)
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    logp = torch.log(s / s.sum(-1, keepdim=True))
    mask = labels != IGNORE
    gathered = torch.gather(logp, -1, torch.where(mask, labels, 0).long().unsqueeze(-1)).squeeze(-1)
    return -torch.where(mask, gathered, 0)


def loss_head(model, carry, batch):
    carry, out = model(carry, batch)
    labels = carry["data"]["labels"]
    mask = labels != IGNORE
    counts = mask.sum(-1)
    divisor = counts.clamp_min(1).unsqueeze(-1)
    with torch.no_grad():
        correct = mask & (out["logits"].argmax(-1) == labels)
        seq_correct = correct.sum(-1) == counts
        valid = carry["halted"] & (counts > 0)
        metrics = dict(count=valid.sum(), accuracy=torch.where(valid, (correct.float() / divisor).sum(-1), 0).sum(),
                       exact_accuracy=(valid & seq_correct).sum(), steps=torch.where(valid, carry["steps"], 0).sum())
    lm = (stablemax_ce(out["logits"], labels) / divisor).sum()
    qh = F.binary_cross_entropy_with_logits(out["q_halt"], seq_correct.to(out["q_halt"].dtype), reduction="sum")
    loss = lm + 0.5 * qh
    if "target_q_continue" in out:
        loss = loss + 0.5 * F.binary_cross_entropy_with_logits(out["q_continue"], out["target_q_continue"], reduction="sum")
    metrics.update(lm_loss=lm.detach(), q_halt_loss=qh.detach())
    return carry, loss, metrics, out, carry["halted"].all()


class AdamATan2:
    """The adam-atan2 package's update (v0.0.3) in torch ops: decoupled decay, lerp moments, atan2."""

    def __init__(self, params, lr, betas=(0.9, 0.95), wd=0.1):
        self.params, self.lr, self.b1, self.b2, self.wd, self.t = list(params), lr, betas[0], betas[1], wd, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            p.mul_(1 - self.lr * self.wd)
            m.lerp_(p.grad, 1 - self.b1)
            v.lerp_(p.grad.square(), 1 - self.b2)
            p.add_(torch.atan2(m, v.sqrt() / math.sqrt(c2)), alpha=-self.lr / c1)
            p.grad = None


def sign_sgd(model, lr, wd=0.1):
    """The sparse puzzle-embedding SignSGD: per-row grads summed per id, sign step on those rows."""
    g = model.local_weights.grad
    if g is None:
        return
    with torch.no_grad():
        ids = model.last_ids.long()
        uniq, inv = ids.unique(return_inverse=True)
        agg = torch.zeros(len(uniq), g.shape[1]).index_add_(0, inv, g)
        rows = model.puzzle_weights[uniq] * (1 - lr * wd) - lr * agg.sign()
        model.puzzle_weights[uniq] = rows
    model.local_weights.grad = None


PRESETS = {
    "sudoku-small": dict(batch_size=32, seq_len=81, vocab_size=11),
    "maze-small": dict(batch_size=8, seq_len=400, vocab_size=6),
}


def bench(name, threads, train_steps, eval_segments):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c = dict(hidden_size=128, num_heads=4, expansion=4, H_layers=2, L_layers=2, H_cycles=2, L_cycles=2, halt_max_steps=8,
             halt_exploration_prob=0.1, puzzle_emb_ndim=128, pos_encodings="rope", num_puzzle_identifiers=1, **PRESETS[name])
    model = Hrm(c)
    B, S, V = c["batch_size"], c["seq_len"], c["vocab_size"]

    def batch():
        inputs = torch.randint(1, V, (B, S), dtype=torch.int32)
        return dict(inputs=inputs, labels=torch.randint(1, V, (B, S), dtype=torch.int32), puzzle_identifiers=torch.zeros(B, dtype=torch.int32))

    opt = AdamATan2(model.p.values(), lr=1e-4)
    model.train()
    carry, times = model.initial_carry(batch()), []
    for k in range(train_steps + 2):
        b = batch()
        t0 = time.perf_counter()
        model.last_ids = b["puzzle_identifiers"]
        carry, loss, _, _, _ = loss_head(model, carry, b)
        (loss / B).backward()
        sign_sgd(model, 1e-2)
        opt.step()
        if k >= 2:
            times.append(time.perf_counter() - t0)
    train = statistics.median(times) * 1e3
    model.eval()
    b, times = batch(), []
    with torch.inference_mode():
        carry = model.initial_carry(b)
        for k in range(eval_segments + 2):
            t0 = time.perf_counter()
            carry, _, _, _, _ = loss_head(model, carry, b)
            if k >= 2:
                times.append(time.perf_counter() - t0)
    ev = statistics.median(times) * 1e3
    print(json.dumps(dict(preset=name, threads=threads, torch=torch.__version__, train_step_ms=round(train, 1), eval_segment_ms=round(ev, 1),
                          train_n=train_steps, eval_n=eval_segments)))


def check(folder):
    """Runs a parity folder's eval segments and first training segment; prints the worst errors."""
    from safetensors.torch import load_file
    c = json.load(open(os.path.join(folder, "config.json")))
    model = Hrm(c)
    wts = load_file(os.path.join(folder, "weights.safetensors"))
    with torch.no_grad():
        for k, v in wts.items():
            name = k.removeprefix("model.inner.")
            if name in model.p:
                model.p[name].copy_(v)
            elif name == "puzzle_emb.weights":
                model.puzzle_weights = v.clone()
            else:
                setattr(model, name, v.float().clone())
    bt, fw, tr = (load_file(os.path.join(folder, f + ".safetensors")) for f in ("batch", "forward", "train_step"))
    batch = {k: bt[k] for k in ("inputs", "labels", "puzzle_identifiers")}
    model.eval()
    worst = 0.0
    with torch.no_grad():
        carry = model.initial_carry(batch)
        for s in range(1, c["halt_max_steps"] + 1):
            carry, _, _, out, _ = loss_head(model, carry, batch)
            worst = max(worst, (out["logits"] - fw[f"logits_{s}"]).abs().max().item(), (carry["zH"] - fw[f"z_H_{s}"]).abs().max().item())
    print(f"eval segments: worst |logits, z_H - official| = {worst:.2e}")
    model.train()
    model.last_ids = batch["puzzle_identifiers"]
    carry = model.initial_carry(batch)
    carry, loss, _, _, _ = loss_head(model, carry, batch)
    (loss / c["batch_size"]).backward()
    rel = abs(loss.item() - tr["loss_1"].item()) / abs(tr["loss_1"].item())
    g = max((model.p[n].grad - tr[f"grad.model.inner.{n}_1"]).abs().max().item() / tr[f"grad.model.inner.{n}_1"].abs().max().item()
            for n in model.p)
    print(f"training segment 1: loss rel. error {rel:.2e}, worst gradient error / max|grad| {g:.2e}")
    assert worst < 1e-4 and rel < 1e-5 and g < 1e-4, "not the official computation"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--check")
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--eval-segments", type=int, default=16)
    a = ap.parse_args()
    if a.check:
        check(a.check)
    if a.preset:
        bench(a.preset, a.threads, a.train_steps, a.eval_segments)
