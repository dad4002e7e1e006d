# Chassis control program for ipmi_sim (lan.conf `chassis_control`), run by the BMC through
# popen as: sh chassis-control.sh <dir> get power | set power 0|1 | set shutdown 1
# State in <dir>: `power` (1 = on, 0 = off), `soft-mode` (what the host's OS does on an ACPI
# soft-off: `off` = powers off at once, `ignore` = stays on, `after N` = stays on for the next N
# power reads, then is off; `fail` = the BMC's soft-off itself fails), `pending` (reads left
# before a pending soft-off completes), and `calls.log` (one line per call, for the tests).
dir="$1"
shift
echo "$*" >> "$dir/calls.log"
power=$(cat "$dir/power" 2>/dev/null || echo 1)
case "$1" in
  get)
    if [ -f "$dir/pending" ]; then
      left=$(cat "$dir/pending")
      if [ "$left" -le 0 ]; then
        power=0
        echo 0 > "$dir/power"
        rm -f "$dir/pending"
      else
        echo $((left - 1)) > "$dir/pending"
      fi
    fi
    echo "power:$power"
    ;;
  set)
    case "$2" in
      power)
        echo "$3" > "$dir/power"
        rm -f "$dir/pending"
        ;;
      shutdown)
        mode=$(cat "$dir/soft-mode" 2>/dev/null || echo off)
        case "$mode" in
          off) echo 0 > "$dir/power" ;;
          ignore) ;;
          # the BMC's chassis control fails: ipmi_sim answers completion code 0xFF (Unspecified
          # error) when this program exits non-zero (cminyard/openipmi lanserv/bmc_chassis.c
          # handle_chassis_control, extcmd_setvals -> IPMI_UNKNOWN_ERR_CC)
          fail) exit 1 ;;
          after*) echo "${mode#after }" > "$dir/pending" ;;
        esac
        ;;
    esac
    ;;
esac
exit 0
