// Arduino entry points (ESP32-S3, RP2350 and STM32H7 envs): the demo logic is
// the C code in main.c; this file only moves lines between Serial and it.
#ifdef ARDUINO
#include <Arduino.h>

extern "C" {
void bitgen_app_setup(void);
void bitgen_app_line(const char *line, char *out, size_t cap);
}

static char line[256];
static size_t line_len;

void setup()
{
    Serial.begin(115200);
    bitgen_app_setup();
    Serial.println("bitgen demo: type 'info', 'crc <text>', 'sample <seed>', 'remember <text>', 'recall'");
}

void loop()
{
    while (Serial.available() > 0) {
        int c = Serial.read();
        if (c == '\r') continue;
        if (c == '\n' || line_len == sizeof line - 1) {
            static char reply[512];
            line[line_len] = 0;
            line_len = 0;
            bitgen_app_line(line, reply, sizeof reply);
            Serial.println(reply);
        } else {
            line[line_len++] = (char)c;
        }
    }
}
#endif
