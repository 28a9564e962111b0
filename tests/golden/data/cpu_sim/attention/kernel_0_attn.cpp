// kernel @attn (traced) defined at <export dir>/attention.py:38
static void pto_kernel_0(char* pto_arena, pto_tile* p_Q, pto_tile* p_KT, pto_tile* p_V, pto_tile* p_O) {
    pto_tile* const v0 = p_Q;
    pto_tile* const v1 = p_KT;
    pto_tile* const v2 = p_V;
    pto_tile* const v3 = p_O;
    pto_tile* const v4 = v0;
    pto_tile* const v5 = v1;
    pto_tile t6 = {pto_arena + 0, 16, 16, 16, 1, PTO_F32};
    pto_tile* const v6 = &t6;
    pto_matmul(v6, v4, v5, (const pto_tile*)0);
    pto_tile t7 = {pto_arena + 1024, 1, 1, 1, 1, PTO_F32};
    pto_tile* const v7 = &t7;
    pto_constant(v7, (0.25));
    pto_tile t8 = {pto_arena + 1088, 16, 16, 16, 1, PTO_F32};
    pto_tile* const v8 = &t8;
    pto_mul(v8, v6, v7);
    pto_tile t9 = {pto_arena + 2112, 16, 1, 1, 1, PTO_F32};
    pto_tile* const v9 = &t9;
    pto_rowmax(v9, v8);
    pto_tile t10 = {pto_arena + 2176, 16, 16, 16, 1, PTO_F32};
    pto_tile* const v10 = &t10;
    pto_sub(v10, v8, v9);
    pto_tile t11 = {pto_arena + 3200, 16, 16, 16, 1, PTO_F32};
    pto_tile* const v11 = &t11;
    pto_exp(v11, v10);
    pto_tile t12 = {pto_arena + 4224, 16, 1, 1, 1, PTO_F32};
    pto_tile* const v12 = &t12;
    pto_rowsum(v12, v11);
    pto_tile t13 = {pto_arena + 4288, 16, 16, 16, 1, PTO_F32};
    pto_tile* const v13 = &t13;
    pto_div(v13, v11, v12);
    pto_tile* const v14 = v2;
    pto_tile t15 = {pto_arena + 5312, 16, 16, 16, 1, PTO_F32};
    pto_tile* const v15 = &t15;
    pto_matmul(v15, v13, v14, (const pto_tile*)0);
    pto_i_copy(v3, v15, 16, 16, PTO_F32, 1024);
    (void)pto_arena;
}
