/* A library for tests/unit/test_elf_callees.c: exported functions whose
 * first call is, or is not, one internal function they share. Built
 * without sanitizers (their checks would add calls) at -O2; `inner` and
 * the others are hidden (not in .dynsym, only in .symtab), noinline and
 * noclone where the compiler has it (no inner.constprop.0 in their
 * place). */
#include <unistd.h>

#if defined(__clang__) /* clang has no noclone, and clones no such function */
#define INTERNAL __attribute__((visibility("hidden"), noinline))
#else
#define INTERNAL __attribute__((visibility("hidden"), noinline, noclone))
#endif

INTERNAL unsigned inner(unsigned x) { return x * 2654435761u ^ (x >> 7); }
INTERNAL unsigned other(unsigned x) { return x * 40503u + 17u; }

/* both call inner first: the common callee */
unsigned outer_a(unsigned x) { return inner(x) + 1u; }
unsigned outer_b(unsigned x) { return inner(x + 3u) * 5u; }
/* first calls differ */
unsigned outer_c(unsigned x) { return other(x) + inner(x); }
/* both first call a function of another library (a PLT stub, not .text) */
unsigned outer_d(unsigned x) { return (unsigned)getpid() + x; }
unsigned outer_e(unsigned x) { return (unsigned)getpid() * x; }
/* no call at all */
unsigned outer_leaf(unsigned x) { return x + 42u; }
