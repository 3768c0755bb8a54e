/*
 * sched_ctx.c: the machine context switch under the ULTs of sched_ult.c. On x86_64 a few
 * instructions of assembly save what the System V ABI says a callee preserves (rbx, rbp,
 * r12-r15, the stack pointer, the return address, the control bits of MXCSR and the x87
 * control word) on the stack being left and restore them from the stack being entered: no
 * system call, unlike glibc's swapcontext, which saves and restores the signal mask with
 * rt_sigprocmask at every switch. Elsewhere, or when built with DSS_ULT_UCONTEXT, glibc's
 * ucontext does the job. AddressSanitizer's fiber annotations stay with the callers
 * (sched_ult.c): they know which stack is being entered.
 */
#define D_LOGFAC sched

#include <string.h>

#include "sched_internal.h"

#ifdef DSS_CTX_ASM

/*
 * The frame a suspended context leaves at cx_sp, from low to high addresses:
 *
 *	+0   x87 control word (2 bytes), then MXCSR (4 bytes, at +4)
 *	+8   r15, r14, r13, r12, rbx, rbp
 *	+56  return address
 *
 * sched_ctx_switch(from, to) pushes that frame, stores the stack pointer in from->cx_sp,
 * loads to->cx_sp and pops the frame found there. A fresh context (sched_ctx_make) holds a
 * forged frame whose return address is ctx_start and whose r12 is the entry function; ctx_start
 * calls it with the stack 16-byte aligned, as a call site must. The entry never returns
 * (the last thing a ULT does is switch away for good); ud2 traps if it ever did. CFI keeps
 * debuggers and profilers able to walk through a switch, and ctx_start marks the bottom of a
 * ULT's call chain (rip undefined, rbp 0).
 */
__asm__(".text\n"
	".globl sched_ctx_switch\n"
	".hidden sched_ctx_switch\n"
	".type sched_ctx_switch, @function\n"
	".p2align 4\n"
	"sched_ctx_switch:\n"
	"	.cfi_startproc\n"
	"	pushq %rbp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %rbp, 0\n"
	"	pushq %rbx\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %rbx, 0\n"
	"	pushq %r12\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %r12, 0\n"
	"	pushq %r13\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %r13, 0\n"
	"	pushq %r14\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %r14, 0\n"
	"	pushq %r15\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset %r15, 0\n"
	"	subq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	fnstcw (%rsp)\n"
	"	stmxcsr 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	/* the other context's frame has the same shape: the CFI above stays true */
	"	movq (%rsi), %rsp\n"
	"	fldcw (%rsp)\n"
	"	ldmxcsr 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %r15\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %r15\n"
	"	popq %r14\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %r14\n"
	"	popq %r13\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %r13\n"
	"	popq %r12\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %r12\n"
	"	popq %rbx\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %rbx\n"
	"	popq %rbp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore %rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size sched_ctx_switch, .-sched_ctx_switch\n"
	"\n"
	".globl sched_ctx_start\n"
	".hidden sched_ctx_start\n"
	".type sched_ctx_start, @function\n"
	".p2align 4\n"
	"sched_ctx_start:\n"
	"	.cfi_startproc\n"
	"	.cfi_undefined %rip\n"
	"	call *%r12\n"
	"	ud2\n"
	"	.cfi_endproc\n"
	".size sched_ctx_start, .-sched_ctx_start\n");

/* Not callable from C: its only caller is the ret of sched_ctx_switch. */
extern char sched_ctx_start[] __attribute__((visibility("hidden")));

/* The x87 control word and MXCSR of a new thread (System V x86_64 ABI, 3.2.3). */
#define CTX_FPCW_INIT 0x037fU
#define CTX_MXCSR_INIT 0x1f80U

/* The words of a suspended frame (see above). */
enum {
	CTX_FP,
	CTX_R15,
	CTX_R14,
	CTX_R13,
	CTX_R12,
	CTX_RBX,
	CTX_RBP,
	CTX_RET,
	CTX_WORDS,
};

void
sched_ctx_make(struct dss_ctx *ctx, char *stack, size_t size, void (*entry)(void))
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *frame;

	/* ctx_start runs with rsp = top - 16: aligned, and the top word is left alone */
	frame = (uint64_t *)(top - 16 - CTX_WORDS * sizeof(uint64_t));
	memset(frame, 0, CTX_WORDS * sizeof(uint64_t));
	/*
	 * Every ULT starts with the ABI's initial floating-point modes (round to nearest,
	 * exceptions masked, x87 extended precision), whatever its creator has set.
	 */
	frame[CTX_FP] = (uint64_t)CTX_FPCW_INIT | (uint64_t)CTX_MXCSR_INIT << 32;
	frame[CTX_R12] = (uint64_t)(uintptr_t)entry;
	frame[CTX_RET] = (uint64_t)(uintptr_t)sched_ctx_start;
	ctx->cx_sp = frame;
}

#else /* !DSS_CTX_ASM: glibc ucontext */

void
sched_ctx_make(struct dss_ctx *ctx, char *stack, size_t size, void (*entry)(void))
{
	/* on the xstream's thread, so that the ULT inherits its signal mask */
	getcontext(&ctx->cx_uc);
	ctx->cx_uc.uc_stack.ss_sp = stack;
	ctx->cx_uc.uc_stack.ss_size = size;
	ctx->cx_uc.uc_link = NULL;
	makecontext(&ctx->cx_uc, entry, 0);
}

void
sched_ctx_switch(struct dss_ctx *from, struct dss_ctx *to)
{
	swapcontext(&from->cx_uc, &to->cx_uc);
}

#endif /* DSS_CTX_ASM */
