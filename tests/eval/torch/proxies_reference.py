# Independent reference values for tests/eval/torch/proxies_test.cpp: PyTorch in double,
# each proxy written out from its formula. Weights: values(n, phase) = 0.8 sin(0.7 k + phase).
import torch
torch.set_default_dtype(torch.float64)
def values(n, phase): return 0.8 * torch.sin(torch.arange(n, dtype=torch.float64) * 0.7 + phase)
W1 = values(20, 0.3).reshape(4, 5); b1 = values(4, 1.1) * 0.2
W2 = values(8, 2.0).reshape(2, 4); b2 = values(2, 0.5) * 0.1
X = values(30, 0.9).reshape(6, 5) * 2.0
Y = torch.tensor([0, 1, 1, 0, 1, 0])
def net(p, x, keep=None):
    z1 = x @ p[0].t() + p[1]
    if keep is not None: z1.retain_grad(); keep.append(z1)
    z2 = torch.relu(z1) @ p[2].t() + p[3]
    if keep is not None: z2.retain_grad(); keep.append(z2)
    return z2, z1
def fresh(): return [t.clone().requires_grad_(True) for t in (W1, b1, W2, b2)]
p = fresh(); out, _ = net(p, X); torch.nn.functional.cross_entropy(out, Y).backward()
print("grad_norm %.12g" % (p[0].grad.norm() + p[2].grad.norm()).item())
print("snip %.12g" % ((p[0] * p[0].grad).abs().sum() + (p[2] * p[2].grad).abs().sum()).item())
p = fresh(); keep = []; out, _ = net(p, X, keep); torch.nn.functional.cross_entropy(out, Y).backward()
print("fisher %.12g" % sum((0.5 * (z * z.grad).pow(2).mean(0)).sum().item() for z in keep))
p = [t.abs().clone().requires_grad_(True) for t in (W1, b1, W2, b2)]
out, _ = net(p, torch.ones(1, 5)); out.sum().backward()
print("synflow %.12g" % ((p[0] * p[0].grad).sum() + (p[2] * p[2].grad).sum()).item())
x = X.clone().requires_grad_(True); out, _ = net(fresh(), x); out.backward(torch.ones_like(out))
v = torch.linalg.eigvalsh(torch.corrcoef(x.grad)); k = 1e-5
print("eigenvalues", v.tolist())
print("jacob_cov %.12g" % -(torch.log(v + k) + 1 / (v + k)).sum().item())
_, z1 = net(fresh(), X); c = (z1 > 0).double(); print("codes", c.tolist())
K = c @ c.t() + (1 - c) @ (1 - c).t(); print("naswot %.12g" % torch.linalg.slogdet(K)[1].item())
X3 = X[[0, 1, 3]]
x = X3.clone().requires_grad_(True); out, _ = net(fresh(), x); out.backward(torch.ones_like(out))
v = torch.linalg.eigvalsh(torch.corrcoef(x.grad)); print("eigenvalues3", v.tolist())
print("jacob_cov3 %.12g" % -(torch.log(v + 1e-5) + 1 / (v + 1e-5)).sum().item())
_, z1 = net(fresh(), X3); c = (z1 > 0).double(); print("codes3", c.tolist())
K = c @ c.t() + (1 - c) @ (1 - c).t(); print(K.tolist()); print("naswot3 %.12g" % torch.linalg.slogdet(K)[1].item())
