// Arduino entry points (ESP32-S3, RP2350 and STM32H7 envs): the demo logic is
// the C code in main.c; this file only moves lines between Serial and it.
#ifdef ARDUINO
#include <Arduino.h>

extern "C" {
void bitgen_app_setup(char *out, size_t cap);
void bitgen_app_line(const char *line, char *out, size_t cap);
}

static char line[256];
static size_t line_len;
static char reply[4096]; /* `facts` lists one line per fact */

void setup()
{
    Serial.begin(115200);
    bitgen_app_setup(reply, sizeof reply); /* banner + the memory restored from flash */
    Serial.println(reply);
}

void loop()
{
    while (Serial.available() > 0) {
        int c = Serial.read();
        if (c == '\r') continue;
        if (c == '\n' || line_len == sizeof line - 1) {
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
