/* test_config.c - FLAMEPROF_* parsing: exact accept/reject decisions and fallbacks. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"



static void freq(const char *text, int ok, unsigned want)
{
    unsigned v = 12345;
    char why[96] = "";
    int got = config_parse_freq(text, &v, why, sizeof why);
    CHECKF(got == ok && v == want, "freq '%s': ok=%d v=%u (%s), want ok=%d v=%u",
          text ? text : "(unset)", got, v, why, ok, want);
}

int main(void)
{
    freq(NULL, 1, 997);
    freq("997", 1, 997);
    freq("1", 1, 1);
    freq("10000", 1, 10000);
    freq("10001", 0, 997);
    freq("0", 0, 997);
    freq("-5", 0, 997);
    freq("abc", 0, 997);
    freq("", 0, 997);
    freq("99999999999999999999999", 0, 997);
    freq("100hz", 0, 997);
    freq(" 100", 0, 997);
    freq("+100", 0, 997);

    bool b = true;
    char why[96];
    CHECKF(config_parse_bool("1", &b, why, sizeof why) && b, "quiet=1");
    CHECKF(config_parse_bool("YES", &b, why, sizeof why) && b, "quiet=YES");
    CHECKF(config_parse_bool("0", &b, why, sizeof why) && !b, "quiet=0");
    CHECKF(config_parse_bool("", &b, why, sizeof why) && !b, "quiet empty");
    CHECKF(!config_parse_bool("maybe", &b, why, sizeof why) && !b, "quiet=maybe rejected");

    char out[256];
    CHECKF(config_parse_out(NULL, out, sizeof out, why, sizeof why) &&
              strcmp(out, "flameprof.%p") == 0, "out default");
    CHECKF(config_parse_out("/tmp/x", out, sizeof out, why, sizeof why) &&
              strcmp(out, "/tmp/x") == 0, "out given");
    CHECKF(!config_parse_out("", out, sizeof out, why, sizeof why) &&
              strcmp(out, "flameprof.%p") == 0, "out empty falls back");
    CHECKF(!config_parse_out("/tmp/dir/", out, sizeof out, why, sizeof why), "out dir rejected");
    CHECKF(!config_parse_out("a\nb", out, sizeof out, why, sizeof why), "out control rejected");
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECKF(!config_parse_out(big, out, sizeof out, why, sizeof why), "out too long rejected");

    char path[64];
    CHECKF(config_expand_out("prof.%p.%%x", 42, path, sizeof path) &&
              strcmp(path, "prof.42.%x") == 0, "expand: got '%s'", path);
    CHECKF(config_expand_out("p%q", 42, path, sizeof path) && strcmp(path, "p%q") == 0,
          "unknown %% escape kept: '%s'", path);
    CHECKF(!config_expand_out("%p%p%p", 123456, path, 8), "expand overflow refused");

    return check_status("test_config");
}
