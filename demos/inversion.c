/*
 * inversion.c — a lock-order inversion: a deadlock waiting to happen that never happens here.
 *
 * transfer() locks the paying account, then the receiving one.  Alice pays Bob from one
 * thread; afterwards Bob pays Alice back from another.  The two transfers run one after the
 * other, so this program always finishes.  But the accounts' locks are taken as alice, bob in
 * one transfer and bob, alice in the other: had the two overlapped, each thread could have held
 * one account and waited for the other for ever.  track reports that inversion from this one
 * clean run, with both stacks.  (The fix: lock the two accounts in a fixed order, e.g. by id.)
 *
 *   track run -- build/bin/demo_inversion
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

struct account {
	const char *name;
	pthread_mutex_t lock;
	long balance;
};

static struct account alice = {"alice", PTHREAD_MUTEX_INITIALIZER, 100};
static struct account bob = {"bob", PTHREAD_MUTEX_INITIALIZER, 50};

struct payment {
	struct account *from, *to;
	long amount;
};

/* Both accounts locked, the payer's first: the order depends on who pays. */
static void transfer(struct account *from, struct account *to, long amount)
{
	pthread_mutex_lock(&from->lock);
	pthread_mutex_lock(&to->lock);
	from->balance -= amount;
	to->balance += amount;
	pthread_mutex_unlock(&to->lock);
	pthread_mutex_unlock(&from->lock);
}

static void *pay(void *arg)
{
	struct payment *p = arg;
	transfer(p->from, p->to, p->amount);
	printf("%s paid %s %ld\n", p->from->name, p->to->name, p->amount);
	return NULL;
}

static void run_payment(struct payment *p, const char *name)
{
	pthread_t t;
	pthread_create(&t, NULL, pay, p);
	pthread_setname_np(t, name);
	pthread_join(t, NULL);   /* one payment at a time: this run cannot deadlock */
}

int main(void)
{
	struct payment lunch = {&alice, &bob, 30}, refund = {&bob, &alice, 10};
	run_payment(&lunch, "lunch");
	run_payment(&refund, "refund");
	printf("balances: alice %ld, bob %ld\n", alice.balance, bob.balance);
	return 0;
}
