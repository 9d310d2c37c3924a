/*
** The rows of the ScanNet v2 label table (scannetv2-labels.combined.tsv, 17 tab-separated columns)
** for every raw category the generator writes. Values are those of the public table, so a
** synthetic scene maps through exactly the ids real data gets.
*/
#include "synth.h"

static const char zHeader[] =
    "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\teigen13class\tModelNet40\tModelNet10\tShapeNetCore55\tsynsetoffset\twnsynsetid\twnsynsetkey\tmpcat40\tmpcat40index";

static const char *const azRows[] = {
    "1\twall\twall\t8277\t1\t12\twall\twall\tWall\t\t\t\t\tn04546855\twall.n.01\twall\t1",
    "3\tfloor\tfloor\t1553\t2\t5\tfloor\tfloor\tFloor\t\t\t\t\tn03365592\tfloor.n.01\tfloor\t2",
    "41\tceiling\tceiling\t806\t22\t3\tceiling\tceiling\tCeiling\t\t\t\t\tn02990373\tceiling.n.01\tceiling\t17",
    "11\tbed\tbed\t370\t4\t1\tbed\tbed\tBed\tbed\tbed\tbed\t2818832\tn02818832\tbed.n.01\tbed\t11",
    "2\tchair\tchair\t4646\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn03001627\tchair.n.01\tchair\t3",
    "10\toffice chair\toffice chair\t595\t5\t4\tchair\tchair\tChair\tchair\tchair\tchair\t3001627\tn04373704\tswivel_chair.n.01\tchair\t3",
    "1313\tsofa\tsofa\t1\t6\t9\tsofa\tsofa\tSofa\tsofa\tsofa\tsofa\t4256520\tn04256520\tsofa.n.01\tsofa\t10",
    "6\tcouch\tcouch\t502\t6\t9\tsofa\tsofa\tSofa\tsofa\tsofa\tsofa\t4256520\tn04256520\tsofa.n.01\tsofa\t10",
    "4\ttable\ttable\t1170\t7\t10\ttable\ttable\tTable\ttable\ttable\ttable\t4379243\tn04379243\ttable.n.02\ttable\t5",
    "24\tcoffee table\tcoffee table\t258\t7\t10\tcoffee table\ttable\tTable\ttable\ttable\ttable\t4379243\tn03063968\tcoffee_table.n.01\ttable\t5",
    "9\tdesk\tdesk\t680\t14\t10\tdesk\tdesk\tTable\tdesk\tdesk\ttable\t4379243\tn03179701\tdesk.n.01\ttable\t5",
    "34\tnightstand\tnightstand\t224\t32\t6\tnight stand\tnight stand\tFurniture\tnight_stand\tnight_stand\t\t\tn03015254\tchest_of_drawers.n.01\tchest_of_drawers\t13",
    "7\tcabinet\tcabinet\t731\t3\t6\tcabinet\tcabinet\tFurniture\t\t\tcabinet\t2933112\tn02933112\tcabinet.n.01\tcabinet\t7",
    "29\tkitchen cabinets\tkitchen cabinet\t289\t3\t6\tcabinet\tcabinet\tFurniture\t\t\tcabinet\t2933112\tn02933112\tcabinet.n.01\tcabinet\t7",
    "18\tbookshelf\tbookshelf\t360\t10\t6\tbookshelf\tbookshelf\tFurniture\tbookshelf\t\tbookshelf\t2871439\tn02871439\tbookshelf.n.01\tshelving\t31",
    "36\tdresser\tdresser\t213\t17\t6\tdresser\tdresser\tFurniture\tdresser\tdresser\t\t\tn03015254\tchest_of_drawers.n.01\tchest_of_drawers\t13",
    "27\trefrigerator\trefrigerator\t154\t24\t6\trefrigerator\trefrigerator\tFurniture\t\t\t\t\tn04070727\trefrigerator.n.01\tappliances\t37",
    "56\ttrash can\ttrash can\t1090\t39\t6\tgarbage bin\totherfurniture\tFurniture\t\t\ttrash_bin\t2747177\tn02747177\tashcan.n.01\tobjects\t39",
    "97\trecycling bin\trecycling bin\t225\t39\t6\tgarbage bin\totherfurniture\tFurniture\t\t\ttrash_bin\t2747177\tn02747177\tashcan.n.01\tobjects\t39",
    "40\tplant\tplant\t331\t40\t7\tplant\totherprop\tObjects\tplant\t\t\t\tn00017222\tplant.n.02\tplant\t14",
    "28\tlamp\tlamp\t419\t35\t7\tlamp\tlamp\tObjects\tlamp\t\tlamp\t3636649\tn03636649\tlamp.n.02\tlighting\t28",
    "17\ttoilet\ttoilet\t256\t33\t7\ttoilet\ttoilet\tObjects\ttoilet\ttoilet\t\t\tn04446276\ttoilet.n.01\ttoilet\t18",
    "42\tbathtub\tbathtub\t144\t36\t7\tbathtub\tbathtub\tObjects\tbathtub\tbathtub\ttub\t2808440\tn02808440\tbathtub.n.01\tbathtub\t25",
    "38\tstool\tstool\t221\t40\t7\tstool\totherprop\tObjects\tstool\t\t\t\tn04326896\tstool.n.01\tstool\t19",
    "90\tpiano\tpiano\t24\t39\t6\tpiano\totherfurniture\tFurniture\tpiano\t\tpiano\t3928116\tn03928116\tpiano.n.01\tfurniture\t36",
    "70\twashing machine\twashing machine\t23\t39\t6\twashing machine\totherfurniture\tFurniture\t\t\twashing_machine\t4554684\tn04554684\twasher.n.03\tappliances\t37",
    "62\tstove\tstove\t95\t38\t7\tstove\totherstructure\tObjects\t\t\tstove\t4330267\tn04330267\tstove.n.02\tappliances\t37",
    "136\tdishwasher\tdishwasher\t43\t38\t7\tdishwasher\totherstructure\tObjects\t\t\tdishwasher\t3207941\tn03207941\tdishwasher.n.01\tappliances\t37",
    "156\tfireplace\tfireplace\t13\t38\t7\tfireplace\totherstructure\tObjects\t\t\t\t\tn03346455\tfireplace.n.01\tfireplace\t27",
    "96\tradiator\tradiator\t322\t39\t6\tradiator\totherfurniture\tFurniture\t\t\t\t\tn04041069\tradiator.n.02\tmisc\t40",
    "112\tguitar\tguitar\t28\t40\t7\tguitar\totherprop\tObjects\tguitar\t\tguitar\t3467517\tn03467517\tguitar.n.01\tobjects\t39",
    "48\tbackpack\tbackpack\t479\t40\t7\tbackpack\totherprop\tObjects\t\t\t\t\tn02769748\tbackpack.n.01\tobjects\t39",
    "26\tbox\tbox\t775\t29\t7\tbox\tbox\tObjects\t\t\t\t\tn02883344\tbox.n.01\tobjects\t39",
    "76\tfan\tfan\t75\t40\t7\tfan\totherprop\tObjects\t\t\t\t\tn03320046\tfan.n.01\tmisc\t40",
    "33\ttv\ttv\t219\t25\t11\ttelevision\ttelevision\tTV\t\t\ttv or monitor\t3211117\tn03211117\tdisplay.n.06\ttv_monitor\t22",
    "5\tdoor\tdoor\t1483\t8\t12\tdoor\tdoor\tWall\tdoor\t\t\t\tn03221720\tdoor.n.01\tdoor\t4",
    "16\twindow\twindow\t1209\t9\t13\twindow\twindow\tWindow\t\t\t\t\tn04587648\twindow.n.01\twindow\t9",
    "15\tpicture\tpicture\t862\t11\t8\tpicture\tpicture\tPicture\t\t\t\t\tn03931044\tpicture.n.01\tpicture\t6",
    "71\tmirror\tmirror\t349\t19\t7\tmirror\tmirror\tObjects\t\t\t\t\tn03773035\tmirror.n.01\tmirror\t21",
    "52\twhiteboard\twhiteboard\t327\t30\t7\twhiteboard\twhiteboard\tObjects\t\t\t\t\tn03211616\tdisplay_panel.n.01\tboard_panel\t35",
    "103\tclock\tclock\t58\t40\t7\tclock\totherprop\tObjects\t\t\tclock\t3046257\tn03046257\tclock.n.01\tobjects\t39",
    "21\tcurtain\tcurtain\t347\t16\t13\tcurtain\tcurtain\tWindow\tcurtain\t\t\t\tn03151077\tcurtain.n.01\tcurtain\t12",
    "19\tmonitor\tmonitor\t765\t40\t7\tmonitor\totherprop\tObjects\tmonitor\tmonitor\ttv or monitor\t3211117\tn03782190\tmonitor.n.04\tobjects\t39",
    "46\tkeyboard\tkeyboard\t246\t40\t7\tkeyboard\totherprop\tObjects\tkeyboard\t\tcomputer keyboard\t3085013\tn03085013\tcomputer_keyboard.n.01\tobjects\t39",
    "13\tpillow\tpillow\t937\t18\t7\tpillow\tpillow\tObjects\t\t\tpillow\t3938244\tn03938244\tpillow.n.01\tcushion\t8",
    "59\tmicrowave\tmicrowave\t141\t40\t7\tmicrowave\totherprop\tObjects\t\t\tmicrowave\t3761084\tn03761084\tmicrowave.n.02\tappliances\t37",
    "50\tprinter\tprinter\t106\t40\t7\tprinter\totherprop\tObjects\t\t\tprinter\t4004475\tn04004475\tprinter.n.03\tappliances\t37",
    "101\ttelephone\ttelephone\t164\t40\t7\ttelephone\totherprop\tObjects\t\t\ttelephone\t4401088\tn04401088\ttelephone.n.01\tobjects\t39",
    "202\tmouse\tmouse\t49\t40\t7\tmouse\totherprop\tObjects\t\t\t\t\tn03793489\tmouse.n.04\tobjects\t39",
    "14\tsink\tsink\t488\t34\t7\tsink\tsink\tObjects\tsink\t\t\t\tn04223580\tsink.n.01\tsink\t15",
    "8\tshelf\tshelf\t641\t15\t6\tshelves\tshelves\tFurniture\tbookshelf\t\tbookshelf\t2871439\tn02871439\tbookshelf.n.01\tshelving\t31",
    "84\toven\toven\t23\t38\t7\toven\totherstructure\tObjects\t\t\t\t\tn03862676\toven.n.01\tappliances\t37",
    "22\tbooks\tbook\t1678\t23\t2\tbook\tbooks\tBooks\t\t\t\t\tn02870526\tbook.n.11\tobjects\t39",
    "35\tcounter\tcounter\t104\t12\t6\tcounter\tcounter\tFurniture\ttable\ttable\ttable\t4379243\tn03116530\tcounter.n.01\tcounter\t26",
    "31\ttowel\ttowel\t570\t27\t7\ttowel\ttowel\tObjects\t\t\t\t\tn04459362\ttowel.n.01\ttowel\t20",
    "121\tbicycle\tbicycle\t33\t40\t7\tbicycle\totherprop\tObjects\t\t\tbicycle\t2834778\tn02834778\tbicycle.n.01\tobjects\t39",
    "57\tcloset\tcloset\t45\t39\t6\twardrobe\totherfurniture\tFurniture\twardrobe\t\t\t\t\t\tmisc\t40",
    "77\tlaptop\tlaptop\t111\t40\t7\tlaptop\totherprop\tObjects\tlaptop\t\tlaptop\t3642806\tn03642806\tlaptop.n.01\tobjects\t39",
};

const char *synth_tsv_header(void) { return zHeader; }

const char *const *synth_tsv_rows(int *pCount)
{
    *pCount = (int)(sizeof azRows / sizeof azRows[0]);
    return azRows;
}
