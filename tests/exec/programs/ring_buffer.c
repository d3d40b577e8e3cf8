/* ring_buffer.c — a packet pipeline: a receiver thread puts sequence-numbered
 * packets into a bounded ring of CAPACITY slots, a decoder thread takes them
 * out and checks they arrive in order. Indices run freely (used = tail - head).
 * The buggy "full" test lets the receiver write when the ring already holds
 * CAPACITY packets, overwriting the oldest one before it is decoded.
 * Expected under `chanlab exec`: CRASH (assertion), PASS (-DFIXED).
 * Output when correct: the packet count and the payload sum. */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

#define CAPACITY 2
#define NPACKETS 6

static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int ring[CAPACITY];        /* guarded by ring_mu */
static unsigned head, tail;       /* guarded by ring_mu: next to take, next to fill */

static void ring_put(int packet)
{
    pthread_mutex_lock(&ring_mu);
#ifndef FIXED
    while (tail - head > CAPACITY) /* BUG(CRASH): off by one: a ring holding CAPACITY packets counts as not full */
#else
    while (tail - head == CAPACITY) /* fixes BUG(CRASH): full means CAPACITY packets held */
#endif
        pthread_cond_wait(&not_full, &ring_mu);
    ring[tail % CAPACITY] = packet;
    tail++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&ring_mu);
}

static int ring_take(void)
{
    pthread_mutex_lock(&ring_mu);
    while (tail == head)
        pthread_cond_wait(&not_empty, &ring_mu);
    int packet = ring[head % CAPACITY];
    head++;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&ring_mu);
    return packet;
}

/* Receiving a packet: a checksum over 60,000 bytes (no pthread call,
 * so no scheduling point; under a normal scheduler it paces the receiver so
 * that the decoder usually keeps up). */
static volatile unsigned checksum_sink;

static int receive_packet(int seq)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < 60000; i++) {
        h ^= (unsigned char)(seq + i);
        h *= 16777619u;
    }
    checksum_sink = h; /* keeps the loop; written by the receiver only */
    return seq;
}

static void *receiver_run(void *arg)
{
    (void)arg;
    for (int seq = 0; seq < NPACKETS; seq++)
        ring_put(receive_packet(seq));
    return NULL;
}

static void *decoder_run(void *arg)
{
    long *sum = arg;
    for (int expect = 0; expect < NPACKETS; expect++) {
        int packet = ring_take();
        assert(packet == expect && "packet lost or out of order");
        *sum += packet;
    }
    return NULL;
}

int main(void)
{
    long sum = 0;
    pthread_t receiver, decoder;
    if (pthread_create(&decoder, NULL, decoder_run, &sum) != 0 ||
        pthread_create(&receiver, NULL, receiver_run, NULL) != 0) {
        perror("pthread_create");
        return 2;
    }
    pthread_join(receiver, NULL);
    pthread_join(decoder, NULL);
    printf("decoded %d packets, payload sum %ld\n", NPACKETS, sum);
    return 0;
}
