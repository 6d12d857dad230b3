package io.sonde.asn;

/**
 * The autonomous system an address is announced by.
 *
 * @param asn  its number (1 to 4294967295)
 * @param name its name as the table gives it, or empty
 */
public record Origin(long asn, String name) {

    /** Checks the number; a null name is empty. */
    public Origin {
        if (asn < 1 || asn > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("AS number " + asn + " is not 1-4294967295");
        }
        name = name == null ? "" : name;
    }

    /** @return {@code AS64500} or {@code AS64500 NAME} */
    @Override
    public String toString() {
        return "AS" + asn + (name.isEmpty() ? "" : " " + name);
    }
}
