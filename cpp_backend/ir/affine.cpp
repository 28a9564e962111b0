// Affine index analysis (see affine.h).
#include "ir/affine.h"

#include <iterator>

namespace pto::wsp::ir {

std::optional<Affine> affine(const ExprPtr& e) {
    if (!e) return std::nullopt;
    if (auto k = e->as_const_int()) return Affine{{}, *k};
    if (e->kind == ExprKind::Var) return Affine{{{e->id, 1}}, 0};
    if (e->kind == ExprKind::Unary && e->op == ExprOp::Neg) {
        auto a = affine(e->children[0]);
        if (!a) return std::nullopt;
        for (auto& [k, v] : a->coef) v = -v;
        a->c = -a->c;
        return a;
    }
    if (e->kind != ExprKind::Binary) return std::nullopt;
    auto a = affine(e->children[0]);
    auto b = affine(e->children[1]);
    if (!a || !b) return std::nullopt;
    if (e->op == ExprOp::Add || e->op == ExprOp::Sub) {
        const int64_t sign = e->op == ExprOp::Add ? 1 : -1;
        for (auto& [k, v] : b->coef) a->coef[k] += sign * v;
        a->c += sign * b->c;
        for (auto it = a->coef.begin(); it != a->coef.end();)
            it = it->second == 0 ? a->coef.erase(it) : std::next(it);
        return a;
    }
    if (e->op == ExprOp::Mul) {
        if (!a->coef.empty() && !b->coef.empty()) return std::nullopt;
        const Affine& var = a->coef.empty() ? *b : *a;
        const int64_t k = a->coef.empty() ? a->c : b->c;
        Affine r;
        if (k != 0)
            for (auto [id, v] : var.coef) r.coef[id] = v * k;
        r.c = var.c * k;
        return r;
    }
    return std::nullopt;
}

std::optional<int64_t> constant_difference(const ExprPtr& a, const ExprPtr& b) {
    auto fa = affine(a);
    auto fb = affine(b);
    if (!fa || !fb || fa->coef != fb->coef) return std::nullopt;
    return fa->c - fb->c;
}

bool separates(const Index& ix, int64_t var) {
    if (ix.kind == Index::Kind::Point) {
        auto a = affine(ix.value);
        return a && a->coef.size() == 1 && a->coef.count(var);
    }
    auto s = affine(ix.start);
    auto t = affine(ix.stop);
    if (!s || !t || s->coef.size() != 1 || !s->coef.count(var) || t->coef != s->coef) return false;
    const int64_t a = s->coef.at(var);
    const int64_t len = t->c - s->c;
    return len <= (a < 0 ? -a : a);
}

}  // namespace pto::wsp::ir
