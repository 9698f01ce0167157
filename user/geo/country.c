// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "geo/country.h"
#include "lib/util.h"

#include <errno.h>

struct country {
	char code[COUNTRY_CODE_LEN];
	bool iso; /* false: accepted because databases use it, not assigned by ISO 3166-1 */
	const char *name;
};

/* Sorted by code: country_find() bisects it. ISO 3166-1 alpha-2 as of 2024. */
static const struct country countries[] = {
	{ "AB", false, "Abkhazia (IPFire location data)" },
	{ "AD", true, "Andorra" },
	{ "AE", true, "United Arab Emirates" },
	{ "AF", true, "Afghanistan" },
	{ "AG", true, "Antigua and Barbuda" },
	{ "AI", true, "Anguilla" },
	{ "AL", true, "Albania" },
	{ "AM", true, "Armenia" },
	{ "AN", false, "Netherlands Antilles (former ISO code)" },
	{ "AO", true, "Angola" },
	{ "AP", false, "Asia/Pacific (RIR and MaxMind region)" },
	{ "AQ", true, "Antarctica" },
	{ "AR", true, "Argentina" },
	{ "AS", true, "American Samoa" },
	{ "AT", true, "Austria" },
	{ "AU", true, "Australia" },
	{ "AW", true, "Aruba" },
	{ "AX", true, "Aland Islands" },
	{ "AZ", true, "Azerbaijan" },
	{ "BA", true, "Bosnia and Herzegovina" },
	{ "BB", true, "Barbados" },
	{ "BD", true, "Bangladesh" },
	{ "BE", true, "Belgium" },
	{ "BF", true, "Burkina Faso" },
	{ "BG", true, "Bulgaria" },
	{ "BH", true, "Bahrain" },
	{ "BI", true, "Burundi" },
	{ "BJ", true, "Benin" },
	{ "BL", true, "Saint Barthelemy" },
	{ "BM", true, "Bermuda" },
	{ "BN", true, "Brunei Darussalam" },
	{ "BO", true, "Bolivia" },
	{ "BQ", true, "Bonaire, Sint Eustatius and Saba" },
	{ "BR", true, "Brazil" },
	{ "BS", true, "Bahamas" },
	{ "BT", true, "Bhutan" },
	{ "BV", true, "Bouvet Island" },
	{ "BW", true, "Botswana" },
	{ "BY", true, "Belarus" },
	{ "BZ", true, "Belize" },
	{ "CA", true, "Canada" },
	{ "CC", true, "Cocos (Keeling) Islands" },
	{ "CD", true, "Congo (Democratic Republic)" },
	{ "CF", true, "Central African Republic" },
	{ "CG", true, "Congo" },
	{ "CH", true, "Switzerland" },
	{ "CI", true, "Cote d'Ivoire" },
	{ "CK", true, "Cook Islands" },
	{ "CL", true, "Chile" },
	{ "CM", true, "Cameroon" },
	{ "CN", true, "China" },
	{ "CO", true, "Colombia" },
	{ "CR", true, "Costa Rica" },
	{ "CS", false, "Serbia and Montenegro (former ISO code)" },
	{ "CU", true, "Cuba" },
	{ "CV", true, "Cabo Verde" },
	{ "CW", true, "Curacao" },
	{ "CX", true, "Christmas Island" },
	{ "CY", true, "Cyprus" },
	{ "CZ", true, "Czechia" },
	{ "DE", true, "Germany" },
	{ "DJ", true, "Djibouti" },
	{ "DK", true, "Denmark" },
	{ "DM", true, "Dominica" },
	{ "DO", true, "Dominican Republic" },
	{ "DZ", true, "Algeria" },
	{ "EC", true, "Ecuador" },
	{ "EE", true, "Estonia" },
	{ "EG", true, "Egypt" },
	{ "EH", true, "Western Sahara" },
	{ "ER", true, "Eritrea" },
	{ "ES", true, "Spain" },
	{ "ET", true, "Ethiopia" },
	{ "EU", false, "Europe (RIR and MaxMind region)" },
	{ "FI", true, "Finland" },
	{ "FJ", true, "Fiji" },
	{ "FK", true, "Falkland Islands (Malvinas)" },
	{ "FM", true, "Micronesia" },
	{ "FO", true, "Faroe Islands" },
	{ "FR", true, "France" },
	{ "GA", true, "Gabon" },
	{ "GB", true, "United Kingdom" },
	{ "GD", true, "Grenada" },
	{ "GE", true, "Georgia" },
	{ "GF", true, "French Guiana" },
	{ "GG", true, "Guernsey" },
	{ "GH", true, "Ghana" },
	{ "GI", true, "Gibraltar" },
	{ "GL", true, "Greenland" },
	{ "GM", true, "Gambia" },
	{ "GN", true, "Guinea" },
	{ "GP", true, "Guadeloupe" },
	{ "GQ", true, "Equatorial Guinea" },
	{ "GR", true, "Greece" },
	{ "GS", true, "South Georgia and the South Sandwich Islands" },
	{ "GT", true, "Guatemala" },
	{ "GU", true, "Guam" },
	{ "GW", true, "Guinea-Bissau" },
	{ "GY", true, "Guyana" },
	{ "HK", true, "Hong Kong" },
	{ "HM", true, "Heard Island and McDonald Islands" },
	{ "HN", true, "Honduras" },
	{ "HR", true, "Croatia" },
	{ "HT", true, "Haiti" },
	{ "HU", true, "Hungary" },
	{ "ID", true, "Indonesia" },
	{ "IE", true, "Ireland" },
	{ "IL", true, "Israel" },
	{ "IM", true, "Isle of Man" },
	{ "IN", true, "India" },
	{ "IO", true, "British Indian Ocean Territory" },
	{ "IQ", true, "Iraq" },
	{ "IR", true, "Iran" },
	{ "IS", true, "Iceland" },
	{ "IT", true, "Italy" },
	{ "JE", true, "Jersey" },
	{ "JM", true, "Jamaica" },
	{ "JO", true, "Jordan" },
	{ "JP", true, "Japan" },
	{ "KE", true, "Kenya" },
	{ "KG", true, "Kyrgyzstan" },
	{ "KH", true, "Cambodia" },
	{ "KI", true, "Kiribati" },
	{ "KM", true, "Comoros" },
	{ "KN", true, "Saint Kitts and Nevis" },
	{ "KP", true, "Korea (Democratic People's Republic)" },
	{ "KR", true, "Korea (Republic)" },
	{ "KW", true, "Kuwait" },
	{ "KY", true, "Cayman Islands" },
	{ "KZ", true, "Kazakhstan" },
	{ "LA", true, "Lao People's Democratic Republic" },
	{ "LB", true, "Lebanon" },
	{ "LC", true, "Saint Lucia" },
	{ "LI", true, "Liechtenstein" },
	{ "LK", true, "Sri Lanka" },
	{ "LR", true, "Liberia" },
	{ "LS", true, "Lesotho" },
	{ "LT", true, "Lithuania" },
	{ "LU", true, "Luxembourg" },
	{ "LV", true, "Latvia" },
	{ "LY", true, "Libya" },
	{ "MA", true, "Morocco" },
	{ "MC", true, "Monaco" },
	{ "MD", true, "Moldova" },
	{ "ME", true, "Montenegro" },
	{ "MF", true, "Saint Martin (French part)" },
	{ "MG", true, "Madagascar" },
	{ "MH", true, "Marshall Islands" },
	{ "MK", true, "North Macedonia" },
	{ "ML", true, "Mali" },
	{ "MM", true, "Myanmar" },
	{ "MN", true, "Mongolia" },
	{ "MO", true, "Macao" },
	{ "MP", true, "Northern Mariana Islands" },
	{ "MQ", true, "Martinique" },
	{ "MR", true, "Mauritania" },
	{ "MS", true, "Montserrat" },
	{ "MT", true, "Malta" },
	{ "MU", true, "Mauritius" },
	{ "MV", true, "Maldives" },
	{ "MW", true, "Malawi" },
	{ "MX", true, "Mexico" },
	{ "MY", true, "Malaysia" },
	{ "MZ", true, "Mozambique" },
	{ "NA", true, "Namibia" },
	{ "NC", true, "New Caledonia" },
	{ "NE", true, "Niger" },
	{ "NF", true, "Norfolk Island" },
	{ "NG", true, "Nigeria" },
	{ "NI", true, "Nicaragua" },
	{ "NL", true, "Netherlands" },
	{ "NO", true, "Norway" },
	{ "NP", true, "Nepal" },
	{ "NR", true, "Nauru" },
	{ "NU", true, "Niue" },
	{ "NZ", true, "New Zealand" },
	{ "OM", true, "Oman" },
	{ "OS", false, "South Ossetia (IPFire location data)" },
	{ "PA", true, "Panama" },
	{ "PE", true, "Peru" },
	{ "PF", true, "French Polynesia" },
	{ "PG", true, "Papua New Guinea" },
	{ "PH", true, "Philippines" },
	{ "PK", true, "Pakistan" },
	{ "PL", true, "Poland" },
	{ "PM", true, "Saint Pierre and Miquelon" },
	{ "PN", true, "Pitcairn" },
	{ "PR", true, "Puerto Rico" },
	{ "PS", true, "Palestine, State of" },
	{ "PT", true, "Portugal" },
	{ "PW", true, "Palau" },
	{ "PY", true, "Paraguay" },
	{ "QA", true, "Qatar" },
	{ "RE", true, "Reunion" },
	{ "RO", true, "Romania" },
	{ "RS", true, "Serbia" },
	{ "RU", true, "Russian Federation" },
	{ "RW", true, "Rwanda" },
	{ "SA", true, "Saudi Arabia" },
	{ "SB", true, "Solomon Islands" },
	{ "SC", true, "Seychelles" },
	{ "SD", true, "Sudan" },
	{ "SE", true, "Sweden" },
	{ "SG", true, "Singapore" },
	{ "SH", true, "Saint Helena, Ascension and Tristan da Cunha" },
	{ "SI", true, "Slovenia" },
	{ "SJ", true, "Svalbard and Jan Mayen" },
	{ "SK", true, "Slovakia" },
	{ "SL", true, "Sierra Leone" },
	{ "SM", true, "San Marino" },
	{ "SN", true, "Senegal" },
	{ "SO", true, "Somalia" },
	{ "SR", true, "Suriname" },
	{ "SS", true, "South Sudan" },
	{ "ST", true, "Sao Tome and Principe" },
	{ "SU", false, "Soviet Union (reserved ISO code)" },
	{ "SV", true, "El Salvador" },
	{ "SX", true, "Sint Maarten (Dutch part)" },
	{ "SY", true, "Syrian Arab Republic" },
	{ "SZ", true, "Eswatini" },
	{ "TC", true, "Turks and Caicos Islands" },
	{ "TD", true, "Chad" },
	{ "TF", true, "French Southern Territories" },
	{ "TG", true, "Togo" },
	{ "TH", true, "Thailand" },
	{ "TJ", true, "Tajikistan" },
	{ "TK", true, "Tokelau" },
	{ "TL", true, "Timor-Leste" },
	{ "TM", true, "Turkmenistan" },
	{ "TN", true, "Tunisia" },
	{ "TO", true, "Tonga" },
	{ "TR", true, "Turkiye" },
	{ "TT", true, "Trinidad and Tobago" },
	{ "TV", true, "Tuvalu" },
	{ "TW", true, "Taiwan" },
	{ "TZ", true, "Tanzania" },
	{ "UA", true, "Ukraine" },
	{ "UG", true, "Uganda" },
	{ "UK", false, "United Kingdom (reserved ISO code; GB is the assigned one)" },
	{ "UM", true, "United States Minor Outlying Islands" },
	{ "UN", false, "United Nations (reserved ISO code)" },
	{ "US", true, "United States of America" },
	{ "UY", true, "Uruguay" },
	{ "UZ", true, "Uzbekistan" },
	{ "VA", true, "Holy See" },
	{ "VC", true, "Saint Vincent and the Grenadines" },
	{ "VE", true, "Venezuela" },
	{ "VG", true, "Virgin Islands (British)" },
	{ "VI", true, "Virgin Islands (U.S.)" },
	{ "VN", true, "Viet Nam" },
	{ "VU", true, "Vanuatu" },
	{ "WF", true, "Wallis and Futuna" },
	{ "WS", true, "Samoa" },
	{ "XK", false, "Kosovo (MaxMind and GeoNames code)" },
	{ "YE", true, "Yemen" },
	{ "YT", true, "Mayotte" },
	{ "ZA", true, "South Africa" },
	{ "ZM", true, "Zambia" },
	{ "ZW", true, "Zimbabwe" },
};

#define COUNTRY_COUNT  ARRAY_SIZE(countries)
#define CODES_PER_LINE 20

int country_slot_of_code(const char *code)
{
	if (code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
		return -1;
	return (code[0] - 'A') * 26 + (code[1] - 'A');
}

/* Bisects by slot number, which orders like the codes; every database line comes here. */
static const struct country *country_find(int slot)
{
	size_t low = 0, high = COUNTRY_COUNT;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int here = country_slot_of_code(countries[mid].code);

		if (here == slot)
			return &countries[mid];
		if (here < slot)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}

static int upper_letter(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 'A';
	if (c >= 'A' && c <= 'Z')
		return c;
	return -1;
}

int country_parse(const char *text, char why[ERRMSG_LEN])
{
	int first, second, slot;

	/* "??" is tor's "no country", ZZ the user-assigned "unknown" of CLDR and the RIRs. */
	if (text[0] == '?' && text[1] == '?' && text[2] == '\0')
		return -ENOENT;
	first = upper_letter(text[0]);
	second = first < 0 ? -1 : upper_letter(text[1]);
	if (second < 0 || text[2] != '\0') {
		errmsg(why, "country code '%s' is not two letters", text);
		return -EINVAL;
	}
	slot = (first - 'A') * 26 + (second - 'A');
	if (first == 'Z' && second == 'Z')
		return -ENOENT;
	if (!country_find(slot)) {
		errmsg(why, "unknown country code '%c%c' (not in ISO 3166-1 alpha-2)", first,
		       second);
		return -ESRCH;
	}
	return slot;
}

bool country_slot_is_valid(int slot)
{
	return country_find(slot) != NULL;
}

void country_code(int slot, char code[COUNTRY_CODE_LEN])
{
	code[0] = 'A' + slot / 26 % 26;
	code[1] = 'A' + slot % 26;
	code[2] = '\0';
}

const char *country_name(int slot)
{
	const struct country *country = country_find(slot);

	return country ? country->name : NULL;
}

static void print_codes(FILE *out, bool iso)
{
	unsigned int on_line = 0;

	for (size_t i = 0; i < COUNTRY_COUNT; i++) {
		if (countries[i].iso != iso)
			continue;
		fprintf(out, "%s%s", on_line ? " " : "  ", countries[i].code);
		if (++on_line == CODES_PER_LINE) {
			fputc('\n', out);
			on_line = 0;
		}
	}
	if (on_line)
		fputc('\n', out);
}

void country_print_valid(FILE *out)
{
	fprintf(out, "valid country codes (ISO 3166-1 alpha-2):\n");
	print_codes(out, true);
	fprintf(out, "also accepted (regions and codes that country databases use):\n");
	print_codes(out, false);
}
