/*
 * unwind_link.c — the two entry points of GCC's unwinder that the shim's own frames need,
 * forwarded to libgcc_s.so.1 without linking it.
 *
 * The shim is built with -fexceptions so that its __attribute__((cleanup)) handlers run when
 * a thread is cancelled or calls pthread_exit inside a wrapped wait, or when a C++ exception
 * leaves a thread's function through the shim's trampoline.  Such code names a personality
 * routine in its unwind tables (__gcc_personality_v0) and ends each cleanup with a call to
 * _Unwind_Resume; both live in libgcc_s.  Linking libgcc_s would map it into every traced
 * process, about 100 KB resident, for calls that only an unwind through the shim makes, and
 * by then libgcc_s is loaded: glibc loads it before a cancellation or pthread_exit starts to
 * unwind (and aborts if it cannot), and a program that throws C++ exceptions links it.
 *
 * So each entry point here is a stub that jumps to libgcc_s's own, found on first use: the
 * real routine sees the stub's caller as its own, exactly as if called directly.  (Linking
 * libgcc's static copy instead, -static-libgcc, made two unwinders meet in one unwind, and
 * cancellation aborted.)  Only the first unwind through the shim asks the dynamic linker.
 * Other architectures link libgcc_s as usual (CMakeLists.txt).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim.h"

#if defined(__x86_64__)

/* The real routines, once found; read by the stubs below. */
TRACK_HIDDEN void *track__real_unwind_resume, *track__real_gcc_personality;

/* Find libgcc_s's routines (loading it only if nothing has yet); without them no unwind can
 * go on, so say why and abort, as glibc does when it cannot load libgcc_s. */
TRACK_HIDDEN void track__unwind_link(void)
{
	static const char msg[] = "libtrack: libgcc_s.so.1 is needed to unwind through the "
				  "shim's frames and cannot be loaded\n";
	void *h = dlopen("libgcc_s.so.1", RTLD_LAZY | RTLD_NOLOAD), *r = NULL, *p = NULL;
	if (h == NULL)
		h = dlopen("libgcc_s.so.1", RTLD_LAZY);
	if (h != NULL) {
		r = dlvsym(h, "_Unwind_Resume", "GCC_3.0");
		p = dlvsym(h, "__gcc_personality_v0", "GCC_3.3.1");
	}
	if (r == NULL || p == NULL) {
		if (write(2, msg, sizeof msg - 1) < 0)
			abort();
		abort();
	}
	__atomic_store_n(&track__real_gcc_personality, p, __ATOMIC_RELEASE);
	__atomic_store_n(&track__real_unwind_resume, r, __ATOMIC_RELEASE);
}

/* The stubs: tail jumps, with the arguments kept across the first call's look-up (one for
 * _Unwind_Resume, five for the personality routine; each push sequence leaves the stack
 * 16-byte aligned for the call).  endbr64: the unwinder calls the personality routine
 * through a pointer. */
__asm__(".text\n"
	".globl _Unwind_Resume\n"
	".hidden _Unwind_Resume\n"
	".type _Unwind_Resume, @function\n"
	"_Unwind_Resume:\n"
	"	endbr64\n"
	"	movq track__real_unwind_resume(%rip), %rax\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	jmp *%rax\n"
	"1:	pushq %rdi\n"
	"	call track__unwind_link\n"
	"	popq %rdi\n"
	"	jmp *track__real_unwind_resume(%rip)\n"
	".size _Unwind_Resume, .-_Unwind_Resume\n"
	"\n"
	".globl __gcc_personality_v0\n"
	".hidden __gcc_personality_v0\n"
	".type __gcc_personality_v0, @function\n"
	"__gcc_personality_v0:\n"
	"	endbr64\n"
	"	movq track__real_gcc_personality(%rip), %rax\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"
	"	jmp *%rax\n"
	"1:	pushq %rdi\n"
	"	pushq %rsi\n"
	"	pushq %rdx\n"
	"	pushq %rcx\n"
	"	pushq %r8\n"
	"	call track__unwind_link\n"
	"	popq %r8\n"
	"	popq %rcx\n"
	"	popq %rdx\n"
	"	popq %rsi\n"
	"	popq %rdi\n"
	"	jmp *track__real_gcc_personality(%rip)\n"
	".size __gcc_personality_v0, .-__gcc_personality_v0\n");

#endif
