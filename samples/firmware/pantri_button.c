/*
 * Shows: a microcontroller-style Pantri button in C on libmosquitto — MQTT 3.1.1, QoS 1, TCP_NODELAY on (without it
 * Nagle's algorithm holds every small request ~40 ms), a reconnect loop with backoff, and one RequestId per press that
 * is kept across reconnects: a press is resent with the same RequestId until its ack arrives, so a resend after an
 * uncertain send is answered with the first ack (Replayed) and never orders twice.
 *
 * Build: make -C samples/firmware            (needs libmosquitto-dev; warnings are errors)
 * Run:   samples/firmware/build/pantri_button -h 127.0.0.1 -p 1883 -i demo-button -k "$BUTTON_KEY" -r 123456789
 *        (each line on stdin is a press; -n N makes N presses one after another and exits when all are acknowledged)
 *
 * Porting to a real microcontroller (same topics, same payloads, same loop):
 *  - ESP-IDF: esp_mqtt_client (esp-mqtt) — set .credentials.client_id/.username = DeviceId, .authentication.password =
 *    Device_Key, subscribe to pantri/v1/devices/{id}/ack at QoS 1 on MQTT_EVENT_CONNECTED, esp_mqtt_client_publish()
 *    the trigger at QoS 1, match the ack's RequestId in MQTT_EVENT_DATA; esp-mqtt reconnects by itself
 *    (reconnect_timeout_ms). Keep the press counter in RTC memory or NVS so RequestIds stay unique across deep sleep.
 *  - Arduino (PubSubClient): client.connect(id, id, key), client.subscribe(ackTopic, 1), client.publish(triggerTopic,
 *    payload). PubSubClient publishes at QoS 0 only: the resend-until-ack loop below, with the same RequestId, is what
 *    makes that safe. Call client.loop() in loop() and reconnect with a growing delay when client.connected() is false.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define RESEND_AFTER_MS 5000
#define MAX_BACKOFF_MS 30000

struct button {
    const char *device_id;
    long long instruction_ref;
    char ack_topic[160];
    char trigger_topic[160];
    bool connected;
    bool connecting;         /* TCP up, CONNACK not seen yet: do not open another connection meanwhile */
    bool subscribed;
    bool refused;            /* wrong key: never retried */
    bool press_pending;      /* a press waits for its ack */
    bool press_sent;
    long long press_sent_ms;
    long long retry_at_ms;   /* after a 429/503: resend no sooner than this */
    char request_id[64];
    unsigned long boot_id;
    unsigned long press_counter;
    int acks;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of a top-level JSON field, good enough for the ack's flat shape; 0 if absent. */
static int json_field(const char *json, int len, const char *name, char *out, size_t out_size)
{
    char key[48];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *end = json + len;
    const char *at = NULL;
    for (const char *p = json; p + strlen(key) <= end; p++) {
        if (strncmp(p, key, strlen(key)) == 0) {
            at = p + strlen(key);
            break;
        }
    }
    if (at == NULL) {
        return 0;
    }
    while (at < end && *at == ' ') {
        at++;
    }
    size_t n = 0;
    if (at < end && *at == '"') {
        at++;
        while (at < end && *at != '"' && n + 1 < out_size) {
            out[n++] = *at++;
        }
    } else {
        while (at < end && *at != ',' && *at != '}' && n + 1 < out_size) {
            out[n++] = *at++;
        }
    }
    out[n] = '\0';
    return 1;
}

static void publish_press(struct mosquitto *mosq, struct button *b)
{
    char payload[160];
    int len = snprintf(payload, sizeof payload, "{\"Instruction_Ref\":%lld,\"RequestId\":\"%s\"}", b->instruction_ref, b->request_id);
    int rc = mosquitto_publish(mosq, NULL, b->trigger_topic, len, payload, 1, false);
    if (rc == MOSQ_ERR_SUCCESS) {
        b->press_sent = true;
        b->press_sent_ms = now_ms();
        printf("sent %s\n", b->request_id);
    } else {
        fprintf(stderr, "publish failed: %s (the press stays pending)\n", mosquitto_strerror(rc));
    }
    fflush(stdout);
}

static void new_press(struct button *b)
{
    /* Unique per press and per boot; a real device keeps boot_id/press_counter in flash or RTC memory. */
    snprintf(b->request_id, sizeof b->request_id, "%s-%lx-%lu", b->device_id, b->boot_id, ++b->press_counter);
    b->press_pending = true;
    b->press_sent = false;
    b->retry_at_ms = 0;
    printf("press %s\n", b->request_id);
    fflush(stdout);
}

static void on_connect(struct mosquitto *mosq, void *userdata, int rc)
{
    struct button *b = userdata;
    b->connecting = false;
    if (rc != 0) {
        /* 3.1.1 CONNACK 4 = bad username or password, 5 = not authorised: retrying cannot help. Any other refusal
         * (3 = server unavailable, also what a gateway answers while it throttles wrong-key logins) is retried with
         * backoff. */
        fprintf(stderr, "CONNACK refused: %s\n", mosquitto_connack_string(rc));
        if (rc == 4 || rc == 5) {
            b->refused = true;
        }
        return;
    }
    b->connected = true;
    b->subscribed = false;
    mosquitto_subscribe(mosq, NULL, b->ack_topic, 1);
}

static void on_subscribe(struct mosquitto *mosq, void *userdata, int mid, int qos_count, const int *granted_qos)
{
    struct button *b = userdata;
    (void)mid;
    if (qos_count < 1 || granted_qos[0] > 2) {
        fprintf(stderr, "subscription to %s refused\n", b->ack_topic);
        b->refused = true;
        return;
    }
    b->subscribed = true;
    printf("connected as %s\n", b->device_id);
    fflush(stdout);
    if (b->press_pending) {
        publish_press(mosq, b); /* same RequestId as before the reconnect */
    }
}

static void on_disconnect(struct mosquitto *mosq, void *userdata, int rc)
{
    struct button *b = userdata;
    (void)mosq;
    b->connected = false;
    b->connecting = false;
    b->subscribed = false;
    b->press_sent = false;
    if (rc != 0) {
        fprintf(stderr, "connection lost: %s\n", mosquitto_strerror(rc));
    }
}

static void on_message(struct mosquitto *mosq, void *userdata, const struct mosquitto_message *message)
{
    struct button *b = userdata;
    (void)mosq;
    if (strcmp(message->topic, b->ack_topic) != 0) {
        return;
    }
    char request_id[64] = "", id[8] = "";
    json_field(message->payload, message->payloadlen, "RequestId", request_id, sizeof request_id);
    json_field(message->payload, message->payloadlen, "ID", id, sizeof id);
    printf("ack %s ID %s %.*s\n", request_id, id, message->payloadlen, (const char *)message->payload);
    fflush(stdout);
    if (!b->press_pending || strcmp(request_id, b->request_id) != 0) {
        return; /* a replayed ack of an earlier press */
    }
    if (strcmp(id, "429") == 0 || strcmp(id, "503") == 0) {
        b->press_sent = false; /* nothing recorded: resend the same RequestId a little later */
        b->retry_at_ms = now_ms() + 1000;
        return;
    }
    b->press_pending = false;
    b->acks++;
}

static void usage(void)
{
    fprintf(stderr, "usage: pantri_button -h HOST -p PORT -i DEVICE_ID -k DEVICE_KEY -r INSTRUCTION_REF [-n PRESSES] [-t SECONDS]\n");
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *key = NULL;
    int port = 1883, presses = -1, timeout_s = 60, opt;
    struct button b;
    memset(&b, 0, sizeof b);
    while ((opt = getopt(argc, argv, "h:p:i:k:r:n:t:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'i': b.device_id = optarg; break;
        case 'k': key = optarg; break;
        case 'r': b.instruction_ref = atoll(optarg); break;
        case 'n': presses = atoi(optarg); break;
        case 't': timeout_s = atoi(optarg); break;
        default: usage(); return 2;
        }
    }
    if (b.device_id == NULL || key == NULL || b.instruction_ref <= 0) {
        usage();
        return 2;
    }
    snprintf(b.ack_topic, sizeof b.ack_topic, "pantri/v1/devices/%s/ack", b.device_id);
    snprintf(b.trigger_topic, sizeof b.trigger_topic, "pantri/v1/devices/%s/trigger", b.device_id);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    b.boot_id = (unsigned long)time(NULL) ^ ((unsigned long)rand() << 8);

    mosquitto_lib_init();
    struct mosquitto *mosq = mosquitto_new(b.device_id, true, &b); /* ClientId = DeviceId */
    if (mosq == NULL) {
        fprintf(stderr, "mosquitto_new failed\n");
        return 1;
    }
    mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_username_pw_set(mosq, b.device_id, key); /* Username = DeviceId, Password = Device_Key */
    mosquitto_connect_callback_set(mosq, on_connect);
    mosquitto_subscribe_callback_set(mosq, on_subscribe);
    mosquitto_disconnect_callback_set(mosq, on_disconnect);
    mosquitto_message_callback_set(mosq, on_message);

    long long deadline = now_ms() + (long long)timeout_s * 1000, next_attempt = 0;
    int backoff_ms = 500, made = 0;
    bool ever_connected = false, input_open = presses < 0;
    while (now_ms() < deadline && !b.refused) {
        long long now = now_ms();
        if (b.connected) {
            backoff_ms = 500; /* a good connection starts the backoff over */
        }
        if (!b.connected && !b.connecting && now >= next_attempt) {
            int rc = ever_connected ? mosquitto_reconnect(mosq) : mosquitto_connect(mosq, host, port, 30);
            if (rc == MOSQ_ERR_SUCCESS) {
                /* Wait for the CONNACK; if it refuses, the next attempt still waits out the backoff. */
                ever_connected = true;
                b.connecting = true;
                int jitter = rand() % (backoff_ms / 2 + 1);
                next_attempt = now + backoff_ms + jitter;
                backoff_ms = backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff_ms * 2;
            } else {
                /* Exponential backoff with jitter, capped: a gateway restart is not met by a thundering herd. */
                int jitter = rand() % (backoff_ms / 2 + 1);
                fprintf(stderr, "connect failed (%s); retry in %d ms\n", mosquitto_strerror(rc), backoff_ms + jitter);
                next_attempt = now + backoff_ms + jitter;
                backoff_ms = backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff_ms * 2;
            }
        }

        /* One press at a time, from -n or from stdin. */
        if (!b.press_pending) {
            if (presses >= 0 && made < presses) {
                new_press(&b);
                made++;
            } else if (input_open) {
                fd_set fds;
                struct timeval tv = {0, 0};
                FD_ZERO(&fds);
                FD_SET(STDIN_FILENO, &fds);
                if (select(STDIN_FILENO + 1, &fds, NULL, NULL, &tv) > 0) {
                    char line[64];
                    if (fgets(line, sizeof line, stdin) == NULL) {
                        input_open = false;
                    } else {
                        new_press(&b);
                    }
                }
            } else {
                break; /* every press is acknowledged and there are no more */
            }
        }

        if (b.press_pending && b.subscribed && now >= b.retry_at_ms
            && (!b.press_sent || now - b.press_sent_ms >= RESEND_AFTER_MS)) {
            publish_press(mosq, &b);
        }

        if (b.connected || ever_connected) {
            int rc = mosquitto_loop(mosq, 50, 1);
            if (rc != MOSQ_ERR_SUCCESS && b.connected) {
                on_disconnect(mosq, &b, rc);
            }
        } else {
            usleep(50 * 1000);
        }
    }

    int missing = b.press_pending ? 1 : 0;
    if (b.connected) {
        mosquitto_disconnect(mosq);
        mosquitto_loop(mosq, 100, 1);
    }
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    if (b.refused) {
        return 3;
    }
    printf("%d acks%s\n", b.acks, missing ? ", one press still waiting" : "");
    return missing ? 1 : 0;
}
